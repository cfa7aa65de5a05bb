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
import { createGithubApi, type GithubApi, type GithubApiOptions, type TeamMembership } from "./github-api.js";
import { githubProblem, README, toGithubError } from "./github-errors.js";
import {
  type GithubTeamConfig,
  type GithubTeamTarget,
  GithubTeamTargetSchema,
  principalProblem,
} from "./github-team-config.js";
import { githubTeamConnectorSpec } from "./github-team-spec.js";

/**
 * Makes a GitHub user a member or maintainer of an organization team, and on revoke undoes what
 * Sesame changed: removes a membership it added, or steps a member it promoted back down. A
 * membership that existed with the role asked for (or a higher one) is left alone. See README.md.
 */

const PENDING_NOTE =
  "GitHub invited the person to the organization: the team's access starts only once they accept the invitation (it expires after 7 days).";

export class GithubTeamConnector implements Connector {
  readonly type = "github-team";
  readonly #name: string;
  readonly #secrets: readonly string[];
  readonly #api: GithubApi;
  readonly #ledger = new MembershipLedger();

  /** `options.sleep` is for tests. */
  constructor(config: GithubTeamConfig, options: { name: string; secrets: readonly string[] } & GithubApiOptions) {
    this.#name = options.name;
    this.#secrets = options.secrets;
    this.#api = createGithubApi(config, options);
  }

  async check(options: CheckOptions = {}): Promise<CheckResult> {
    const problems: string[] = [];
    const targets = (options.targets ?? []).flatMap((raw, index) => {
      const result = GithubTeamTargetSchema.safeParse(raw);
      if (result.success) return [result.data];
      problems.push(...describeIssues(result.error, `target ${index + 1}`));
      return [];
    });
    try {
      await this.#api.provesToken();
    } catch (error) {
      problems.push(githubProblem("GitHub does not accept Sesame's token", error, this.#secrets));
      return { ok: false, problems: problems.map((problem) => redactSecrets(problem, this.#secrets)) };
    }
    for (const org of new Set(targets.map((target) => target.org))) {
      try {
        const scopes = await this.#api.tokenScopes(org);
        if (scopes !== undefined && !scopes.includes("admin:org"))
          problems.push(
            `Sesame's classic GitHub token lacks the admin:org scope, which managing team members needs (it has: ${scopes.join(", ") || "no scopes"}); see ${README}`,
          );
      } catch (error) {
        problems.push(githubProblem(`Sesame's GitHub token cannot read organization ${org}`, error, this.#secrets));
      }
    }
    for (const target of targets) {
      try {
        if ((await this.#api.teamName(target.org, target.team)) === undefined)
          problems.push(
            `GitHub team ${target.org}/${target.team} does not exist, or Sesame's token cannot see it (a fine-grained token needs the organization permission Members: read and write; a GitHub App, Members: write)`,
          );
      } catch (error) {
        problems.push(
          githubProblem(`Sesame's GitHub token cannot read team ${target.org}/${target.team}`, error, this.#secrets),
        );
      }
    }
    return { ok: problems.length === 0, problems: problems.map((problem) => redactSecrets(problem, this.#secrets)) };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const target = this.#target(context);
    const username = context.principal;
    const key = keyOf(target, username);
    // An earlier call for this grant died before its outcome was recorded: a membership in place
    // may be its doing, and one left behind would outlive the grant.
    if (context.unfinishedCallBefore) this.#ledger.note(key);
    return this.#call("grant access", async () => {
      const existing = await this.#api.membership(target.org, target.team, username);
      const ours = existing === undefined || this.#ledger.addedBySesame(key);
      const promote = existing?.role === "member" && target.role === "maintainer";
      let now: TeamMembership | undefined = existing;
      if (ours) {
        this.#ledger.note(key);
        if (existing === undefined || promote)
          now = await this.#api.setMembership(target.org, target.team, username, target.role);
      } else if (promote) {
        this.#ledger.note(promotedKey(key));
        now = await this.#api.setMembership(target.org, target.team, username, "maintainer");
      }
      const promotedFrom = !ours && (promote || this.#ledger.addedBySesame(promotedKey(key))) ? "member" : undefined;
      const notes = [
        ...(!ours && promotedFrom === undefined
          ? ["The user held this team membership already; Sesame changed nothing and will remove nothing at revoke."]
          : []),
        ...(promotedFrom === undefined
          ? []
          : ["The user was a member already; Sesame made them maintainer and will make them member again at revoke."]),
        ...(now?.state === "pending" ? [PENDING_NOTE] : []),
      ];
      return {
        data: {
          org: target.org,
          team: target.team,
          username,
          role: now?.role ?? target.role,
          state: now?.state ?? "active",
          addedBySesame: ours,
          ...(promotedFrom === undefined ? {} : { promotedFrom }),
          ...(notes.length === 0 ? {} : { note: notes.join(" ") }),
        },
      };
    });
  }

  /** Undoes what Sesame changed; the core calls this when no other grant holds the same team for the person. */
  async revoke(context: RevokeContext): Promise<void> {
    const target = this.#target(context);
    const username = context.principal;
    const key = keyOf(target, username);
    await this.#call("revoke access", async () => {
      const current = await this.#api.membership(target.org, target.team, username);
      if (this.#ours(context, key)) {
        if (current !== undefined) await this.#api.removeMembership(target.org, target.team, username);
        this.#ledger.forget(key);
      } else if (this.#promoted(context, key)) {
        if (current?.role === "maintainer") await this.#api.setMembership(target.org, target.team, username, "member");
        this.#ledger.forget(promotedKey(key));
      }
    });
  }

  /** True when what Sesame changed is undone, or Sesame changed nothing. */
  async verifyRevoked(context: RevokeContext): Promise<boolean> {
    const target = this.#target(context);
    const key = keyOf(target, context.principal);
    const ours = this.#ours(context, key);
    if (!ours && !this.#promoted(context, key)) return true;
    return this.#call("verify a revoke", async () => {
      const current = await this.#api.membership(target.org, target.team, context.principal);
      return ours ? current === undefined : current?.role !== "maintainer";
    });
  }

  #ours(context: RevokeContext, key: string): boolean {
    const recorded = context.receipt?.addedBySesame;
    return typeof recorded === "boolean" ? recorded : this.#ledger.addedBySesame(key);
  }

  #promoted(context: RevokeContext, key: string): boolean {
    if (context.receipt !== null) return context.receipt.promotedFrom === "member";
    return this.#ledger.addedBySesame(promotedKey(key));
  }

  #target(context: GrantContext): GithubTeamTarget {
    return checkedTarget(
      GithubTeamTargetSchema,
      context,
      this.#name,
      principalProblem,
      `grant a GitHub team to "${context.principal}"`,
    );
  }

  async #call<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toGithubError(error, this.#name, action, this.#secrets);
    }
  }
}

const keyOf = (target: GithubTeamTarget, username: string) => `${target.org}/${target.team}/${username}`.toLowerCase();
const promotedKey = (key: string) => `${key}#promoted`;

export const githubTeamConnectorDefinition: ConnectorDefinition<GithubTeamConfig, GithubTeamTarget> = {
  ...githubTeamConnectorSpec,
  create: (config, options) => new GithubTeamConnector(config, options),
};
