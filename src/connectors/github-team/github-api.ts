import { setTimeout as sleep } from "node:timers/promises";
import { Octokit } from "@octokit/rest";
import { z } from "zod";
import { AppError } from "../../domain/errors.js";
import { type QuickRetryPolicy, withQuickRetries } from "../quick-retry.js";
import { httpStatusOf, retryAdvice } from "./github-errors.js";
import type { GithubTeamConfig } from "./github-team-config.js";

/**
 * The GitHub REST calls the connector makes, through @octokit/rest: every request through Node's
 * fetch with a real timeout (Octokit sets none), and rate limits (secondary ones included) and 5xx
 * retried with an injectable sleep (the Octokit throttling and retry plugins would wait with real
 * timers, for as long as GitHub says).
 */

export interface GithubApiOptions {
  sleep?: (ms: number) => Promise<void>;
}

export type TeamRole = "member" | "maintainer";

export interface TeamMembership {
  role: TeamRole;
  /** `pending`: GitHub invited the person to the organization; no access until they accept. */
  state: "active" | "pending";
}

export interface GithubApi {
  membership(org: string, team: string, username: string): Promise<TeamMembership | undefined>;
  setMembership(org: string, team: string, username: string, role: TeamRole): Promise<TeamMembership>;
  /** Removing a membership that is gone already succeeds. */
  removeMembership(org: string, team: string, username: string): Promise<void>;
  /** The team's name; undefined when GitHub answers 404 (no such team, or the token cannot see it). */
  teamName(org: string, team: string): Promise<string | undefined>;
  /** Proves the token: GitHub accepts it (an installation token's 403 on /user counts as accepted). */
  provesToken(): Promise<void>;
  /** The scopes of a classic token (`x-oauth-scopes`); undefined for fine-grained and app tokens. */
  tokenScopes(org: string): Promise<string[] | undefined>;
}

const MembershipSchema = z.looseObject({
  role: z.enum(["member", "maintainer"]),
  state: z.enum(["active", "pending"]),
});
const TeamSchema = z.looseObject({ slug: z.string(), name: z.string().optional() });

const garbage = (what: string) =>
  new AppError(
    "connector_failed",
    `GitHub answered ${what} with something that is not GitHub's JSON; nothing more was changed. Check the connector's apiUrl; the job retries.`,
  );

export function createGithubApi(config: GithubTeamConfig, options: GithubApiOptions = {}): GithubApi {
  const timeoutMs = config.requestTimeoutSeconds * 1000;
  const octokit = new Octokit({
    auth: config.token,
    baseUrl: config.apiUrl.replace(/\/+$/, ""),
    userAgent: "sesame-jit-access",
    request: {
      fetch: (url: string | URL, init?: RequestInit) =>
        fetch(url, { ...init, redirect: "error", signal: AbortSignal.timeout(timeoutMs) }),
    },
    // Octokit logs request failures to the console by default; Sesame reports them itself.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  const policy: QuickRetryPolicy = { retries: config.retries, sleep: options.sleep ?? sleep };
  const retried = <T>(call: () => Promise<T>) => withQuickRetries(call, retryAdvice, policy);
  const parseMembership = (data: unknown, what: string): TeamMembership => {
    const parsed = MembershipSchema.safeParse(data);
    if (!parsed.success) throw garbage(what);
    return { role: parsed.data.role, state: parsed.data.state };
  };

  return {
    async membership(org, team, username) {
      try {
        const answer = await retried(() =>
          octokit.rest.teams.getMembershipForUserInOrg({ org, team_slug: team, username }),
        );
        return parseMembership(answer.data, "the team membership read");
      } catch (error) {
        if (httpStatusOf(error) === 404) return undefined;
        throw error;
      }
    },
    async setMembership(org, team, username, role) {
      const answer = await retried(() =>
        octokit.rest.teams.addOrUpdateMembershipForUserInOrg({ org, team_slug: team, username, role }),
      );
      return parseMembership(answer.data, "the team membership change");
    },
    async removeMembership(org, team, username) {
      try {
        await retried(() => octokit.rest.teams.removeMembershipForUserInOrg({ org, team_slug: team, username }));
      } catch (error) {
        if (httpStatusOf(error) !== 404) throw error;
      }
    },
    async teamName(org, team) {
      try {
        const answer = await retried(() => octokit.rest.teams.getByName({ org, team_slug: team }));
        const parsed = TeamSchema.safeParse(answer.data);
        if (!parsed.success) throw garbage("the team read");
        return parsed.data.name ?? parsed.data.slug;
      } catch (error) {
        if (httpStatusOf(error) === 404) return undefined;
        throw error;
      }
    },
    async provesToken() {
      try {
        await retried(() => octokit.rest.users.getAuthenticated());
      } catch (error) {
        if (httpStatusOf(error) !== 403) throw error;
      }
    },
    async tokenScopes(org) {
      const answer = await retried(() => octokit.rest.orgs.get({ org }));
      const header = answer.headers["x-oauth-scopes"];
      if (typeof header !== "string") return undefined;
      return header
        .split(",")
        .map((scope) => scope.trim())
        .filter((scope) => scope !== "");
    },
  };
}
