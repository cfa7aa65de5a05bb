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
import { GraphError, graphProblem, README, toGraphError } from "./entra-errors.js";
import {
  type EntraGroupConfig,
  type EntraGroupTarget,
  EntraGroupTargetSchema,
  principalProblem,
} from "./entra-group-config.js";
import { entraGroupConnectorSpec } from "./entra-group-spec.js";
import { createGraphApi, type GraphApi, type GraphApiOptions } from "./graph-api.js";

/**
 * Adds an Entra ID user to a group through Microsoft Graph, and on revoke removes the membership
 * if Sesame added it. A direct member already keeps the membership: the receipt says
 * `addedBySesame: false` and revoke leaves it alone. See README.md.
 */

export class EntraGroupConnector implements Connector {
  readonly type = "entra-group";
  readonly #name: string;
  readonly #secrets: readonly string[];
  readonly #config: EntraGroupConfig;
  readonly #api: GraphApi;
  readonly #ledger = new MembershipLedger();

  /** `options.sleep` is for tests. */
  constructor(config: EntraGroupConfig, options: { name: string; secrets: readonly string[] } & GraphApiOptions) {
    this.#name = options.name;
    this.#secrets = options.secrets;
    this.#config = config;
    this.#api = createGraphApi(config, options);
  }

  async check(options: CheckOptions = {}): Promise<CheckResult> {
    const problems: string[] = [];
    const targets = (options.targets ?? []).flatMap((raw, index) => {
      const result = EntraGroupTargetSchema.safeParse(raw);
      if (result.success) return [result.data];
      problems.push(...describeIssues(result.error, `target ${index + 1}`));
      return [];
    });
    try {
      await this.#api.anyUser();
    } catch (error) {
      const prefix =
        error instanceof GraphError && error.source === "token"
          ? "Sesame's app cannot get a token from Entra"
          : "Sesame's app cannot read users (it needs the application permission User.ReadBasic.All, admin-consented)";
      problems.push(graphProblem(prefix, error, this.#secrets));
    }
    for (const groupId of new Set(targets.map((target) => target.groupId))) {
      try {
        const group = await this.#api.group(groupId);
        if (group === undefined) problems.push(`Entra group ${groupId} does not exist in this tenant`);
        else if (group.managedElsewhere !== undefined) problems.push(managedElsewhere(groupId, group.managedElsewhere));
      } catch (error) {
        problems.push(
          graphProblem(
            `Sesame's app cannot read group ${groupId} (it needs the application permission GroupMember.ReadWrite.All, admin-consented)`,
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
      if (userId === undefined)
        throw new AppError(
          "connector_failed",
          `No Entra user has the ${this.#config.principalAttribute} "${context.principal}". Fix the identity mapping (the resource's principal template) or the connector's principalAttribute.`,
        );
      const group = await this.#api.group(target.groupId);
      if (group === undefined)
        throw new AppError(
          "connector_failed",
          `Entra group ${target.groupId} does not exist in this tenant. Fix the resource's target.`,
        );
      if (group.managedElsewhere !== undefined)
        throw new AppError("connector_failed", `${managedElsewhere(target.groupId, group.managedElsewhere)}.`);
      // A direct member already keeps the membership as it is, unless this process added it (a
      // retried grant, another grant of the same group). The read comes first so that a note is
      // taken only before an add that may change something; Graph's refusal of a duplicate (someone
      // added them meanwhile) says the same.
      const key = keyOf(target.groupId, userId);
      // An earlier call for this grant died before its outcome was recorded: a membership in place
      // may be its doing, and one left behind would outlive the grant.
      if (context.unfinishedCallBefore) this.#ledger.note(key);
      const known = this.#ledger.addedBySesame(key);
      let addedBySesame = known;
      if (!known && !(await this.#api.isMember(target.groupId, userId))) {
        this.#ledger.note(key);
        addedBySesame = await this.#api.addMember(target.groupId, userId);
        if (!addedBySesame) this.#ledger.forget(key);
      } else if (known) await this.#api.addMember(target.groupId, userId);
      return {
        data: {
          groupId: target.groupId,
          ...(group.displayName === undefined ? {} : { groupName: group.displayName.slice(0, 200) }),
          userId,
          addedBySesame,
          ...(addedBySesame
            ? {}
            : { note: "The user was a member already; Sesame added nothing and will remove nothing at revoke." }),
        },
      };
    });
  }

  /** Removes the membership when Sesame added it; the core calls this when no other grant holds it. */
  async revoke(context: RevokeContext): Promise<void> {
    const target = this.#target(context);
    await this.#call("revoke access", async () => {
      const userId = await this.#userId(context);
      if (userId === undefined || !this.#ours(context, keyOf(target.groupId, userId))) return;
      await this.#api.removeMember(target.groupId, userId);
      this.#ledger.forget(keyOf(target.groupId, userId));
    });
  }

  /** True when the membership is gone, or was never Sesame's to take away. */
  async verifyRevoked(context: RevokeContext): Promise<boolean> {
    const target = this.#target(context);
    return this.#call("verify a revoke", async () => {
      const userId = await this.#userId(context);
      if (userId === undefined || !this.#ours(context, keyOf(target.groupId, userId))) return true;
      return !(await this.#api.isMember(target.groupId, userId));
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

  #target(context: GrantContext): EntraGroupTarget {
    return checkedTarget(EntraGroupTargetSchema, context, this.#name, principalProblem);
  }

  async #call<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toGraphError(error, this.#name, action, this.#secrets);
    }
  }
}

const keyOf = (groupId: string, userId: string) => `${groupId.toLowerCase()}/${userId.toLowerCase()}`;

function managedElsewhere(groupId: string, how: "dynamic" | "on-premises"): string {
  return how === "dynamic"
    ? `Entra group ${groupId} has dynamic membership: its rule decides who is in it, and Graph cannot add anyone; offer an assigned group`
    : `Entra group ${groupId} is synchronised from on-premises Active Directory: its members can only change there; offer a cloud group (see ${README})`;
}

export const entraGroupConnectorDefinition: ConnectorDefinition<EntraGroupConfig, EntraGroupTarget> = {
  ...entraGroupConnectorSpec,
  create: (config, options) => new EntraGroupConnector(config, options),
};
