import { z } from "zod";
import { credentialsDecodeCleanly } from "../url-credentials.js";
import { ruleProblem } from "./acl-rules.js";

/** Connector config and resource targets of the `redis-acl` connector (see README.md). */

export const RedisAclConfigSchema = z.strictObject({
  url: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .refine(
      (url) => URL.canParse(url) && credentialsDecodeCleanly(new URL(url)),
      "is not a valid URL (percent-encode special characters in the user and password)",
    )
    .describe("URL of Sesame's own ACL user on the Redis server; a secret, so give it as { env: VAR }"),
  persist: z
    .enum(["auto", "acl-file", "config-rewrite", "none"])
    .default("auto")
    .describe(
      "How every grant and revoke is written to the server's files, so that a restart cannot bring back a revoked user: ACL SAVE (acl-file), CONFIG REWRITE (config-rewrite), whichever the server uses (auto), or not at all (none: only for servers that cannot persist ACL users)",
    ),
  clearedRunIds: z
    .array(z.string().regex(/^[0-9a-f]{40}$/, "must be a Redis run_id (40 hex digits, from INFO server)"))
    .max(100)
    .default([])
    .describe(
      "run_ids of servers the operator has cleared by hand after a failover: a revoke that finds nothing on another server stops failing for grants made there",
    ),
  connectTimeoutSeconds: z.coerce.number().int().min(1).max(300).default(10),
});
export type RedisAclConfig = z.infer<typeof RedisAclConfigSchema>;
export type PersistSetting = RedisAclConfig["persist"];

export const EnableUserTargetSchema = z.strictObject({
  mode: z.literal("enable-user"),
});
export type EnableUserTarget = z.infer<typeof EnableUserTargetSchema>;

const AclRuleSchema = z.string().superRefine((rule, context) => {
  const problem = ruleProblem(rule);
  if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
});

export const TemporaryUserTargetSchema = z.strictObject({
  mode: z.literal("temporary-user"),
  rules: z
    .array(AclRuleSchema)
    .min(1, "must name at least one rule, e.g. +@read")
    .max(64)
    .describe(
      "ACL rules of the temporary user: +@category, -@category, +command, -command, ~pattern, %R~pattern, %W~pattern, &channel, ...",
    ),
});
export type TemporaryUserTarget = z.infer<typeof TemporaryUserTargetSchema>;

export const RedisAclTargetSchema = z.discriminatedUnion("mode", [EnableUserTargetSchema, TemporaryUserTargetSchema]);
export type RedisAclTarget = z.infer<typeof RedisAclTargetSchema>;

/**
 * ACL user names Sesame accepts as principals. Redis itself only forbids spaces and NUL, but a
 * quote or backslash would corrupt an ACL file written by ACL SAVE, so the set is kept small.
 */
const PRINCIPAL = /^[A-Za-z0-9_][A-Za-z0-9_.@:+-]{0,127}$/;

/** Why `principal` cannot be used as an ACL user name, or undefined. `self` is Sesame's own user. */
export function principalProblem(principal: string, self: string): string | undefined {
  if (!PRINCIPAL.test(principal))
    return "must be 1-128 characters of letters, digits and _ . @ : + - (starting with a letter, digit or _)";
  if (principal === "default") return "is Redis's default user, which Sesame never switches or deletes";
  if (principal === self) return "is Sesame's own ACL user";
  return undefined;
}

/** The ACL user of Sesame's own connection: the URL's user name, or Redis's `default` user. */
export function connectionUser(url: string): string {
  const user = decodeURIComponent(new URL(url).username);
  return user === "" ? "default" : user;
}
