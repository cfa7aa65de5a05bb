import { z } from "zod";
import { ApiEndpointSchema } from "../api-endpoint.js";

/** Connector config and resource targets of the `github-team` connector (see README.md). */

export const GithubTeamConfigSchema = z.strictObject({
  apiUrl: ApiEndpointSchema.default("https://api.github.com").describe(
    "The REST API root; GitHub Enterprise Server: https://github.example.com/api/v3",
  ),
  token: z.string().min(1).describe("A token that may manage team members (see README.md); secret: { env: NAME } only"),
  requestTimeoutSeconds: z.coerce.number().positive().max(120).default(15).describe("Per API request"),
  retries: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(4)
    .describe("Quick retries within one call for secondary rate limits, 5xx and network errors"),
});
export type GithubTeamConfig = z.infer<typeof GithubTeamConfigSchema>;

export const GithubTeamTargetSchema = z.strictObject({
  org: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, "must be a GitHub organization login such as my-org"),
  team: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, "must be the team's slug (as in its URL), e.g. platform-admins"),
  role: z
    .enum(["member", "maintainer"])
    .default("member")
    .describe("maintainer may also manage the team's members and settings"),
});
export type GithubTeamTarget = z.infer<typeof GithubTeamTargetSchema>;

/** Principals are GitHub logins. */
export function principalProblem(principal: string): string | undefined {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(principal))
    return "is not a GitHub login (letters, digits and hyphens, at most 39)";
  return undefined;
}
