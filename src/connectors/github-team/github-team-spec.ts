import type { ConnectorSpec } from "../connector.js";
import {
  type GithubTeamConfig,
  GithubTeamConfigSchema,
  type GithubTeamTarget,
  GithubTeamTargetSchema,
} from "./github-team-config.js";

/** What the policy loader needs to know about the GitHub team connector; the implementation loads on first use. */
export const githubTeamConnectorSpec: ConnectorSpec<GithubTeamConfig, GithubTeamTarget> = {
  type: "github-team",
  description: "GitHub: makes a user a member or maintainer of an organization team, and undoes what Sesame changed.",
  configSchema: GithubTeamConfigSchema,
  targetSchema: GithubTeamTargetSchema,
  secretFields: ["token"],
  // GitHub keeps one membership per user and team, whatever its role: grants of the same team to
  // the same person (member or maintainer) are counted together and revoked when the last one ends.
  entitlementOf: (target) => ({ org: target.org.toLowerCase(), team: target.team.toLowerCase() }),
  load: async () => (await import("./github-team-connector.js")).githubTeamConnectorDefinition,
};
