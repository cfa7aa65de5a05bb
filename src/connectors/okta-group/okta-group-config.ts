import { z } from "zod";
import { ApiEndpointSchema } from "../api-endpoint.js";

/** Connector config and resource targets of the `okta-group` connector (see README.md). */

export const OktaGroupConfigSchema = z.strictObject({
  orgUrl: ApiEndpointSchema.describe("Your Okta org, e.g. https://example.okta.com"),
  token: z.string().min(1).describe("An Okta API token (SSWS); secret: { env: NAME } only"),
  principalAttribute: z
    .enum(["login", "email"])
    .default("login")
    .describe("How the principal names an Okta user: its login (the default) or its primary email"),
  requestTimeoutSeconds: z.coerce.number().positive().max(120).default(15).describe("Per Okta API request"),
  retries: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(4)
    .describe("Quick retries within one call for rate limits (429), 5xx and network errors"),
});
export type OktaGroupConfig = z.infer<typeof OktaGroupConfigSchema>;

export const OktaGroupTargetSchema = z.strictObject({
  groupId: z
    .string()
    .regex(/^[A-Za-z0-9]{10,32}$/, "must be an Okta group id such as 00g1abcd2EFGH3ijk4x7")
    .describe("The Okta group (type OKTA_GROUP) the person is added to"),
});
export type OktaGroupTarget = z.infer<typeof OktaGroupTargetSchema>;

/** Principals are looked up as an exact login or email; only sanity limits apply. */
export function principalProblem(principal: string): string | undefined {
  if (principal.length === 0 || principal.length > 256) return "must be 1-256 characters long";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\x00-\x1f\x7f"\\]/.test(principal)) return "must not contain control characters, quotes or backslashes";
  return undefined;
}
