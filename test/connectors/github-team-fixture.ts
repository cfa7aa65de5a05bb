import { randomBytes } from "node:crypto";
import type { GrantContext } from "../../src/connectors/connector.js";
import { GithubTeamConnector } from "../../src/connectors/github-team/github-team-connector.js";
import { githubTeamConnectorSpec } from "../../src/connectors/github-team/github-team-spec.js";
import type { GithubStandIn } from "./github-team-stand-in.js";

/** Shared pieces of the github-team tests: connectors pointed at the local stand-in, contexts with fresh logins. */

export function githubConnector(
  standIn: GithubStandIn,
  apiUrl: string,
  overrides: Record<string, unknown> = {},
  options: { name?: string; sleep?: (ms: number) => Promise<void>; token?: string } = {},
): GithubTeamConnector {
  const token = options.token ?? standIn.token;
  const config = githubTeamConnectorSpec.configSchema.parse({ apiUrl, token, ...overrides });
  return new GithubTeamConnector(config, {
    name: options.name ?? "github",
    secrets: [token],
    sleep: options.sleep ?? (async () => {}),
  });
}

const suffix = randomBytes(3).toString("hex");
let sequence = 0;

/** A grant of `team` to a new login who is a member of the organization. */
export function githubContext(
  standIn: GithubStandIn,
  team: string,
  role: "member" | "maintainer" = "member",
): GrantContext {
  sequence += 1;
  const login = `dev-${suffix}-${sequence}`;
  standIn.addOrgMember(login);
  return {
    grantId: `0c4c${suffix}-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
    principal: login,
    target: { org: standIn.org, team, role },
    expiresAt: new Date(Date.now() + 3_600_000),
  };
}
