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
import { createKadmin, type Kadmin } from "./kadmin-runner.js";
import { checkProblems } from "./kerberos-check.js";
import { type KerberosConfig, type KerberosTarget, KerberosTargetSchema, parsePrincipal } from "./kerberos-config.js";
import { toKerberosError } from "./kerberos-errors.js";
import { kerberosConnectorSpec } from "./kerberos-spec.js";
import { extendPrincipal, grantPrincipal, principalRevoked, revokePrincipal } from "./principal-toggle.js";

/** Enables a disabled, pre-existing Kerberos principal for the length of a grant. See README.md. */

export class KerberosConnector implements Connector {
  readonly type = "kerberos";
  readonly #name: string;
  readonly #secrets: readonly string[];
  readonly #config: KerberosConfig;
  readonly #kadmin: Kadmin;

  constructor(config: KerberosConfig, options: { name: string; secrets: readonly string[] }) {
    this.#name = options.name;
    this.#secrets = options.secrets;
    this.#config = config;
    this.#kadmin = createKadmin(config);
  }

  async check(options: CheckOptions = {}): Promise<CheckResult> {
    const problems: string[] = [];
    const targets = (options.targets ?? []).flatMap((raw, index) => {
      const result = KerberosTargetSchema.safeParse(raw);
      if (!result.success) problems.push(...describeIssues(result.error, `target ${index + 1}`));
      return result.success ? [result.data] : [];
    });
    problems.push(...(await checkProblems(this.#kadmin, this.#config, targets, this.#secrets)));
    return { ok: problems.length === 0, problems: problems.map((problem) => redactSecrets(problem, this.#secrets)) };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const target = this.#target(context);
    const principal = this.#principal(context.principal, target.instance);
    return this.#run("grant access", () => grantPrincipal(this.#kadmin, principal, target, context, new Date()));
  }

  async extend(context: RevokeContext): Promise<GrantReceipt | void> {
    const target = this.#target(context);
    const principal = this.#principal(context.principal, target.instance);
    return this.#run("extend access", () => extendPrincipal(this.#kadmin, principal, target, context, new Date()));
  }

  async revoke(context: RevokeContext): Promise<void> {
    this.#target(context);
    // No instance rule here: a resource edited after the grant must not block taking access away.
    const principal = this.#principal(context.principal, undefined);
    await this.#run("revoke access", () => revokePrincipal(this.#kadmin, principal, context.receipt));
  }

  async verifyRevoked(context: RevokeContext): Promise<boolean> {
    this.#target(context);
    const principal = this.#principal(context.principal, undefined);
    return this.#run("verify a revoke", () => principalRevoked(this.#kadmin, principal, context.receipt));
  }

  #target(context: GrantContext): KerberosTarget {
    const result = KerberosTargetSchema.safeParse(context.target);
    if (!result.success)
      throw configInvalid(describeIssues(result.error, `connector "${this.#name}" target`), { connector: this.#name });
    return result.data;
  }

  /** The fully qualified principal, checked before it goes anywhere near a kadmin argument. */
  #principal(principal: string, instance: string | undefined): string {
    const parsed = parsePrincipal(principal, this.#config.realm, instance);
    if ("problem" in parsed) {
      // JSON.stringify shows quotes, spaces and newlines of a hostile mapping for what they are.
      throw new AppError(
        "connector_failed",
        `Connector "${this.#name}" cannot use principal ${JSON.stringify(principal)}: it ${parsed.problem}. Fix the identity mapping.`,
        {
          details: { connector: this.#name },
        },
      );
    }
    return parsed.full;
  }

  async #run<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toKerberosError(error, this.#name, action, this.#secrets);
    }
  }
}

export const kerberosConnectorDefinition: ConnectorDefinition<KerberosConfig, KerberosTarget> = {
  ...kerberosConnectorSpec,
  create: (config, options) => new KerberosConnector(config, options),
};
