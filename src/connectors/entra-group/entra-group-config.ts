import { z } from "zod";
import { ApiEndpointSchema } from "../api-endpoint.js";

/** Connector config and resource targets of the `entra-group` connector (see README.md). */

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const EntraGroupConfigSchema = z.strictObject({
  tenantId: z.string().regex(GUID, "must be the directory (tenant) id, a GUID"),
  clientId: z.string().regex(GUID, "must be the application (client) id of Sesame's app registration, a GUID"),
  clientSecret: z.string().min(1).describe("The app registration's client secret; secret: { env: NAME } only"),
  graphUrl: ApiEndpointSchema.default("https://graph.microsoft.com/v1.0").describe(
    "Microsoft Graph's base URL (national clouds: https://graph.microsoft.us/v1.0, …)",
  ),
  authorityUrl: ApiEndpointSchema.default("https://login.microsoftonline.com").describe(
    "Where tokens come from (national clouds: https://login.microsoftonline.us, …)",
  ),
  principalAttribute: z
    .enum(["userPrincipalName", "mail"])
    .default("userPrincipalName")
    .describe("How the principal names an Entra user: its userPrincipalName (the default) or its mail"),
  requestTimeoutSeconds: z.coerce.number().positive().max(120).default(15).describe("Per Graph request"),
  retries: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(4)
    .describe("Quick retries within one call for throttling (429 / 503 with Retry-After) and network errors"),
});
export type EntraGroupConfig = z.infer<typeof EntraGroupConfigSchema>;

export const EntraGroupTargetSchema = z.strictObject({
  groupId: z
    .string()
    .regex(GUID, "must be the group's object id, a GUID")
    .describe("A security or Microsoft 365 group"),
});
export type EntraGroupTarget = z.infer<typeof EntraGroupTargetSchema>;

export function principalProblem(principal: string): string | undefined {
  if (!/^[^\s'"/\\?%]{1,113}@[A-Za-z0-9.-]{1,253}$/.test(principal))
    return "is not a user principal name or mail address (name@domain, no quotes or slashes)";
  return undefined;
}
