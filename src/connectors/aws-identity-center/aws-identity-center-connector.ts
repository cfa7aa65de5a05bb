import { AppError } from "../../domain/errors.js";
import { checkedTarget, describeIssues } from "../config-errors.js";
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
import { type SettleOptions, settleChange } from "./assignment-change.js";
import { type AwsApi, type AwsApiOptions, createAwsApi } from "./aws-api.js";
import { awsPermissionProblems } from "./aws-check.js";
import { toAwsError } from "./aws-errors.js";
import {
  type AwsIdentityCenterConfig,
  type AwsIdentityCenterTarget,
  AwsIdentityCenterTargetSchema,
  principalProblem,
} from "./aws-identity-center-config.js";
import { awsIdentityCenterConnectorSpec } from "./aws-identity-center-spec.js";

/**
 * Assigns an IAM Identity Center permission set in an AWS account to a user, and removes the
 * assignment on revoke, each time waiting until AWS reports the change settled. See README.md.
 */

export class AwsIdentityCenterConnector implements Connector {
  readonly type = "aws-identity-center";
  readonly #name: string;
  readonly #secrets: readonly string[];
  readonly #config: AwsIdentityCenterConfig;
  readonly #api: AwsApi;
  readonly #settle: SettleOptions;

  /** `options.credentials` and `options.sleep` are for tests; production takes credentials from the environment. */
  constructor(config: AwsIdentityCenterConfig, options: { name: string; secrets: readonly string[] } & AwsApiOptions) {
    this.#name = options.name;
    this.#secrets = options.secrets;
    this.#config = config;
    this.#api = createAwsApi(config, options);
    this.#settle = {
      statusTimeoutSeconds: config.statusTimeoutSeconds,
      statusPollSeconds: config.statusPollSeconds,
      ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
    };
  }

  async check(options: CheckOptions = {}): Promise<CheckResult> {
    const problems: string[] = [];
    const targets = (options.targets ?? []).flatMap((raw, index) => {
      const result = AwsIdentityCenterTargetSchema.safeParse(raw);
      if (result.success) return [result.data];
      problems.push(...describeIssues(result.error, `target ${index + 1}`));
      return [];
    });
    problems.push(...(await awsPermissionProblems(this.#api, targets, this.#secrets)));
    return { ok: problems.length === 0, problems: problems.map((problem) => redactSecrets(problem, this.#secrets)) };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const target = this.#target(context);
    return this.#call("grant access", async () => {
      const userId = await this.#api.userIdOf(context.principal);
      if (userId === undefined) throw this.#noSuchUser(context.principal);
      // Creating an assignment that exists already succeeds: a retried grant adds nothing.
      const requestId = await settleChange(this.#api, "creation", userId, target, this.#settle);
      return {
        data: {
          accountId: target.accountId,
          permissionSetArn: target.permissionSetArn,
          userId,
          awsRequestId: requestId,
        },
      };
    });
  }

  /**
   * Removes the user's assignment. The core calls this only when no other grant holds the same
   * permission set in the same account for the same person (entitlementOf): AWS keeps one
   * assignment for all of them.
   */
  async revoke(context: RevokeContext): Promise<void> {
    const target = this.#target(context);
    await this.#call("revoke access", async () => {
      const userId = await this.#userId(context);
      // No such user (deleted since): nothing of theirs is left to remove.
      if (userId === undefined) return;
      // AWS does not document deleting an assignment that is gone as a no-op: look first.
      if (!(await this.#api.assignmentExists(userId, target))) return;
      await settleChange(this.#api, "deletion", userId, target, this.#settle);
    });
  }

  async verifyRevoked(context: RevokeContext): Promise<boolean> {
    const target = this.#target(context);
    return this.#call("verify a revoke", async () => {
      const userId = await this.#userId(context);
      return userId === undefined || !(await this.#api.assignmentExists(userId, target));
    });
  }

  async close(): Promise<void> {
    this.#api.close();
  }

  /** The user id the grant recorded, or a fresh lookup (no receipt: the grant crashed or never ran). */
  async #userId(context: RevokeContext): Promise<string | undefined> {
    const recorded = context.receipt?.userId;
    if (typeof recorded === "string" && recorded !== "") return recorded;
    return this.#api.userIdOf(context.principal);
  }

  #noSuchUser(principal: string): AppError {
    const attribute = this.#config.principalAttribute === "email" ? "email" : "user name";
    return new AppError(
      "connector_failed",
      `No IAM Identity Center user has the ${attribute} "${principal}" in identity store ${this.#config.identityStoreId}. Fix the identity mapping (the resource's principal template) or the connector's principalAttribute, or create the user.`,
    );
  }

  #target(context: GrantContext): AwsIdentityCenterTarget {
    return checkedTarget(AwsIdentityCenterTargetSchema, context, this.#name, principalProblem);
  }

  async #call<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toAwsError(error, this.#name, action, this.#secrets);
    }
  }
}

export const awsIdentityCenterConnectorDefinition: ConnectorDefinition<
  AwsIdentityCenterConfig,
  AwsIdentityCenterTarget
> = {
  ...awsIdentityCenterConnectorSpec,
  create: (config, options) => new AwsIdentityCenterConnector(config, options),
};
