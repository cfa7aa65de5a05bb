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
import { MembershipLedger } from "../membership-ledger.js";
import { redactSecrets } from "../redact.js";
import { createOktaApi, type OktaApi, type OktaApiOptions } from "./okta-api.js";
import { oktaProblem, README, toOktaError } from "./okta-errors.js";
import {
  type OktaGroupConfig,
  type OktaGroupTarget,
  OktaGroupTargetSchema,
  principalProblem,
} from "./okta-group-config.js";
import { oktaGroupConnectorSpec } from "./okta-group-spec.js";

/**
 * Adds an Okta user to an Okta group, and on revoke removes the membership if Sesame added it.
 * A person who was a member already keeps the membership: the receipt says `addedBySesame: false`
 * and revoke leaves it alone. See README.md.
 */

export class OktaGroupConnector implements Connector {
  readonly type = "okta-group";
  readonly #name: string;
  readonly #secrets: readonly string[];
  readonly #config: OktaGroupConfig;
  readonly #api: OktaApi;
  readonly #ledger = new MembershipLedger();

  /** `options.sleep` is for tests. */
  constructor(config: OktaGroupConfig, options: { name: string; secrets: readonly string[] } & OktaApiOptions) {
    this.#name = options.name;
    this.#secrets = options.secrets;
    this.#config = config;
    this.#api = createOktaApi(config, options);
  }

  async check(options: CheckOptions = {}): Promise<CheckResult> {
    const problems: string[] = [];
    const targets = (options.targets ?? []).flatMap((raw, index) => {
      const result = OktaGroupTargetSchema.safeParse(raw);
      if (result.success) return [result.data];
      problems.push(...describeIssues(result.error, `target ${index + 1}`));
      return [];
    });
    try {
      await this.#api.anyUser();
    } catch (error) {
      problems.push(
        oktaProblem("Sesame's Okta token cannot list users (it needs okta.users.read)", error, this.#secrets),
      );
    }
    for (const groupId of new Set(targets.map((target) => target.groupId))) {
      try {
        const group = await this.#api.group(groupId);
        if (group === undefined)
          problems.push(
            `Okta group ${groupId} does not exist (or Sesame's admin role does not cover it); see ${README}`,
          );
        else if (group.type !== "OKTA_GROUP")
          problems.push(
            `Okta group ${groupId} is of type ${group.type ?? "unknown"}: its members come from a directory or an app and Okta lets no API change them; use an OKTA_GROUP`,
          );
      } catch (error) {
        problems.push(
          oktaProblem(
            `Sesame's Okta token cannot read group ${groupId} (it needs a Group Membership Administrator role over it)`,
            error,
            this.#secrets,
          ),
        );
      }
    }
    return { ok: problems.length === 0, problems: problems.map((problem) => redactSecrets(problem, this.#secrets)) };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const target = this.#target(context);
    return this.#call("grant access", async () => {
      const userId = await this.#api.userIdOf(context.principal);
      if (userId === undefined) throw this.#noSuchUser(context.principal);
      const group = await this.#api.group(target.groupId);
      if (group === undefined)
        throw new AppError(
          "connector_failed",
          `Okta group ${target.groupId} does not exist, or Sesame's admin role does not cover it. Fix the resource's target or the role (see ${README}).`,
        );
      if (group.type !== "OKTA_GROUP")
        throw new AppError(
          "connector_failed",
          `Okta group ${target.groupId} is of type ${group.type ?? "unknown"}: its members come from a directory or an app, and Okta lets no API change them. Offer an OKTA_GROUP instead.`,
        );
      // Already a member (by hand, a group rule): leave it as it is, and say so, so that revoke
      // never takes away what Sesame did not give. A membership this process added (a retried
      // grant, another grant of the same group) is Sesame's.
      const key = `${target.groupId}/${userId}`;
      // An earlier call for this grant died before its outcome was recorded: a membership in place
      // may be its doing, and one left behind would outlive the grant.
      if (context.unfinishedCallBefore) this.#ledger.note(key);
      const member = await this.#api.isMember(userId, target.groupId);
      const addedBySesame = !member || this.#ledger.addedBySesame(key);
      if (!member) {
        this.#ledger.note(key);
        await this.#api.addMember(userId, target.groupId);
      }
      return {
        data: {
          groupId: target.groupId,
          ...(group.name === undefined ? {} : { groupName: group.name.slice(0, 200) }),
          userId,
          addedBySesame,
          ...(addedBySesame
            ? {}
            : { note: "The user was a member already; Sesame added nothing and will remove nothing at revoke." }),
        },
      };
    });
  }

  /**
   * Removes the membership when Sesame added it. The core calls this only when no other grant
   * holds the same group for the same person (entitlementOf). Without a receipt (the grant never
   * reported back, or never ran) the membership is Sesame's only if this process added it.
   */
  async revoke(context: RevokeContext): Promise<void> {
    const target = this.#target(context);
    await this.#call("revoke access", async () => {
      const userId = await this.#userId(context);
      if (userId === undefined || !this.#ours(context, `${target.groupId}/${userId}`)) return;
      if (await this.#api.isMember(userId, target.groupId)) await this.#api.removeMember(userId, target.groupId);
      this.#ledger.forget(`${target.groupId}/${userId}`);
    });
  }

  /** True when the membership is gone, or was never Sesame's to take away. */
  async verifyRevoked(context: RevokeContext): Promise<boolean> {
    const target = this.#target(context);
    return this.#call("verify a revoke", async () => {
      const userId = await this.#userId(context);
      if (userId === undefined || !this.#ours(context, `${target.groupId}/${userId}`)) return true;
      return !(await this.#api.isMember(userId, target.groupId));
    });
  }

  #ours(context: RevokeContext, key: string): boolean {
    const recorded = context.receipt?.addedBySesame;
    return typeof recorded === "boolean" ? recorded : this.#ledger.addedBySesame(key);
  }

  async #userId(context: RevokeContext): Promise<string | undefined> {
    const recorded = context.receipt?.userId;
    if (typeof recorded === "string" && recorded !== "") return recorded;
    return this.#api.userIdOf(context.principal);
  }

  #noSuchUser(principal: string): AppError {
    return new AppError(
      "connector_failed",
      `No Okta user has the ${this.#config.principalAttribute} "${principal}". Fix the identity mapping (the resource's principal template) or the connector's principalAttribute.`,
    );
  }

  #target(context: GrantContext): OktaGroupTarget {
    return checkedTarget(OktaGroupTargetSchema, context, this.#name, principalProblem);
  }

  async #call<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toOktaError(error, this.#name, action, this.#secrets);
    }
  }
}

export const oktaGroupConnectorDefinition: ConnectorDefinition<OktaGroupConfig, OktaGroupTarget> = {
  ...oktaGroupConnectorSpec,
  create: (config, options) => new OktaGroupConnector(config, options),
};
