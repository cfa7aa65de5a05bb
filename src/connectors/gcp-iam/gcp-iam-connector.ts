import { AppError } from "../../domain/errors.js";
import { configInvalid, describeIssues } from "../config-errors.js";
import type {
  CheckOptions,
  CheckResult,
  Connector,
  ConnectorDefinition,
  GrantContext,
  GrantReceipt,
  RevokeContext,
} from "../connector.js";
import { redactSecrets } from "../redact.js";
import { createGcpApi, type GcpApi, type GcpApiOptions } from "./gcp-api.js";
import { gcpPermissionProblems } from "./gcp-check.js";
import { gcpProblem, httpStatusOf, toGcpError } from "./gcp-errors.js";
import {
  type GcpIamConfig,
  type GcpIamTarget,
  GcpIamTargetSchema,
  principalProblem,
  resourceOf,
} from "./gcp-iam-config.js";
import { gcpIamConnectorSpec } from "./gcp-iam-spec.js";
import { conditionTitle, expiryCondition, holdsGrant, withGrant, withoutGrant } from "./iam-policy.js";

/**
 * Grants a Google Cloud role with an IAM condition that ends it at the grant's expiry, so access
 * ends even if Sesame is down; revoke removes exactly that binding's member. See README.md.
 */

interface GrantBinding {
  resource: string;
  role: string;
  member: string;
  title: string;
}

export class GcpIamConnector implements Connector {
  readonly type = "gcp-iam";
  readonly #name: string;
  readonly #secrets: readonly string[];
  readonly #api: GcpApi;

  /** `options.auth` and `options.sleep` are for tests; production uses Application Default Credentials. */
  constructor(config: GcpIamConfig, options: { name: string; secrets: readonly string[] } & GcpApiOptions) {
    this.#name = options.name;
    this.#secrets = options.secrets;
    this.#api = createGcpApi(config, options);
  }

  async check(options: CheckOptions = {}): Promise<CheckResult> {
    const problems: string[] = [];
    const targets = (options.targets ?? []).flatMap((raw, index) => {
      const result = GcpIamTargetSchema.safeParse(raw);
      if (result.success) return [result.data];
      problems.push(...describeIssues(result.error, `target ${index + 1}`));
      return [];
    });
    if (targets.length > 0) problems.push(...(await gcpPermissionProblems(this.#api, targets, this.#secrets)));
    else {
      // Nothing specific to ask: getting a token at least proves the credentials.
      try {
        await this.#api.grantedPermissions("projects/sesame-credential-check", []);
      } catch (error) {
        if (!isNotFoundOrDenied(error))
          problems.push(gcpProblem("cannot reach Google with Sesame's credentials", error, this.#secrets));
      }
    }
    return { ok: problems.length === 0, problems: problems.map((problem) => redactSecrets(problem, this.#secrets)) };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const binding = this.#binding(context);
    const condition = expiryCondition(context.grantId, context.expiresAt);
    await this.#call("grant access", () =>
      this.#api.modifyPolicy(binding.resource, (policy) => withGrant(policy, binding.role, binding.member, condition)),
    );
    return { data: receiptOf(binding, condition.expression) };
  }

  async revoke(context: RevokeContext): Promise<void> {
    const binding = this.#binding(context);
    await this.#call("revoke access", () =>
      this.#api.modifyPolicy(binding.resource, (policy) =>
        withoutGrant(policy, binding.role, binding.member, binding.title),
      ),
    );
  }

  /** Moves the condition's expiry; a binding removed meanwhile is not put back (that would re-grant). */
  async extend(context: RevokeContext): Promise<GrantReceipt | undefined> {
    const binding = this.#binding(context);
    const condition = expiryCondition(context.grantId, context.expiresAt);
    let present = false;
    await this.#call("extend access", () =>
      this.#api.modifyPolicy(binding.resource, (policy) => {
        present = holdsGrant(policy, binding.role, binding.member, binding.title);
        return present ? withGrant(policy, binding.role, binding.member, condition) : undefined;
      }),
    );
    return present ? { data: receiptOf(binding, condition.expression) } : undefined;
  }

  async verifyRevoked(context: RevokeContext): Promise<boolean> {
    const binding = this.#binding(context);
    const policy = await this.#call("verify a revoke", () => this.#api.readPolicy(binding.resource));
    return !holdsGrant(policy, binding.role, binding.member, binding.title);
  }

  /** Everything here derives from the target, principal and grant id: a revoke needs no receipt. */
  #binding(context: GrantContext): GrantBinding {
    const result = GcpIamTargetSchema.safeParse(context.target);
    if (!result.success)
      throw configInvalid(describeIssues(result.error, `connector "${this.#name}" target`), { connector: this.#name });
    const problem = principalProblem(context.principal);
    if (problem !== undefined)
      throw new AppError(
        "connector_failed",
        `Connector "${this.#name}" cannot grant a Google Cloud role to "${context.principal}": it ${problem}. Fix the identity mapping.`,
      );
    const target: GcpIamTarget = result.data;
    return {
      resource: resourceOf(target),
      role: target.role,
      member: `${target.memberType}:${context.principal}`,
      title: conditionTitle(context.grantId),
    };
  }

  async #call<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toGcpError(error, this.#name, action, this.#secrets);
    }
  }
}

function receiptOf(binding: GrantBinding, expression: string): Record<string, unknown> {
  return {
    resource: binding.resource,
    role: binding.role,
    member: binding.member,
    conditionTitle: binding.title,
    conditionExpression: expression,
  };
}

/** A made-up project answers 403 or 404 once the token was accepted. */
function isNotFoundOrDenied(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status === 403 || status === 404;
}

export const gcpIamConnectorDefinition: ConnectorDefinition<GcpIamConfig, GcpIamTarget> = {
  ...gcpIamConnectorSpec,
  create: (config, options) => new GcpIamConnector(config, options),
};
