import { z } from "zod";
import { credentialsDecodeCleanly } from "../url-credentials.js";

/** Connector config and resource targets of the `postgres` connector (see README.md). */

export const PostgresConfigSchema = z.strictObject({
  url: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// connection string")
    .refine(
      (url) => URL.canParse(url) && credentialsDecodeCleanly(new URL(url)),
      "is not a valid URL (percent-encode special characters in the user and password)",
    )
    .describe("Connection string of Sesame's own account on the target; a secret, so give it as { env: VAR }"),
  ssl: z
    .enum(["disable", "require", "verify-full"])
    .optional()
    .describe("TLS to the target; `sslmode` in the url takes precedence when both are given"),
  connectTimeoutSeconds: z.coerce.number().int().min(1).max(300).default(10),
  maxConnections: z.coerce.number().int().min(1).max(20).default(2),
});
export type PostgresConfig = z.infer<typeof PostgresConfigSchema>;

/** PostgreSQL truncates longer identifiers silently, which could make two names collide. */
const MAX_IDENTIFIER_BYTES = 63;

export const RoleNameSchema = z
  .string()
  .min(1, "must not be empty")
  .refine(
    (name) => Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES,
    `must be at most ${MAX_IDENTIFIER_BYTES} bytes long`,
  )
  .refine((name) => !name.includes("\0"), "must not contain a NUL character");

export const MembershipTargetSchema = z.strictObject({
  mode: z.literal("membership"),
  role: RoleNameSchema.describe("Existing role whose membership is granted to the principal"),
  terminateSessions: z
    .boolean()
    .default(true)
    .describe("On revoke, end the principal's open sessions (privileges taken with SET ROLE outlive the membership)"),
});
export type MembershipTarget = z.infer<typeof MembershipTargetSchema>;

export const LoginRoleTargetSchema = z.strictObject({
  mode: z.literal("login-role"),
  memberOf: z.array(RoleNameSchema).default([]).describe("Roles the temporary login role becomes a member of"),
  connectionLimit: z.number().int().min(1).optional(),
});
export type LoginRoleTarget = z.infer<typeof LoginRoleTargetSchema>;

export const PostgresTargetSchema = z.preprocess(
  // `mode` may be left out: membership of an existing role is the common case.
  (value) => (isPlainObject(value) && !("mode" in value) ? { ...value, mode: "membership" } : value),
  z.discriminatedUnion("mode", [MembershipTargetSchema, LoginRoleTargetSchema]),
);
export type PostgresTarget = z.infer<typeof PostgresTargetSchema>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks a principal the same way as a role name in the policy file; returns the problem or undefined. */
export function principalProblem(principal: string): string | undefined {
  const result = RoleNameSchema.safeParse(principal);
  return result.success ? undefined : result.error.issues.map((issue) => issue.message).join("; ");
}
