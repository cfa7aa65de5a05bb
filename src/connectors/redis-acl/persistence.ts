import { AppError } from "../../domain/errors.js";
import { describeError } from "../redact.js";
import type { PersistSetting } from "./redis-acl-config.js";
import { redisAclHint } from "./redis-acl-errors.js";
import type { RedisSession } from "./redis-session.js";

/**
 * Writing the in-memory ACL users to the server's files after every grant and revoke.
 *
 * Redis loads its users at start from the aclfile, or from the `user` lines of redis.conf. Both
 * are written from memory by anyone who runs ACL SAVE or CONFIG REWRITE (an operator, Sentinel on
 * failover), and they write *every* user as it is at that moment. A grant that was written there
 * and a revoke that only changed memory would bring the user back at the next restart, so each
 * revoke ends by writing the users again, whether or not it found anything to remove.
 */

/** Where a change was written: the aclfile, redis.conf, or nowhere (the server keeps ACL users in memory only, or `persist: none`). */
export type Persisted = "acl-file" | "config-rewrite" | "none";

const NO_ACL_FILE = /not configured to use an ACL file/i;
const NO_CONFIG_FILE = /running without a config file/i;

const message = (error: unknown): string => String((error as Error | undefined)?.message ?? error);

/**
 * Writes every ACL user as it is in memory to the server's files.
 * - `acl-file`: ACL SAVE; fails on a server without an aclfile.
 * - `config-rewrite`: CONFIG REWRITE (the `user` lines of redis.conf); a server started without a
 *   config file has nothing to write to, and nothing can bring a user back from it.
 * - `auto`: ACL SAVE, and CONFIG REWRITE when the server has no aclfile (with an aclfile Redis never
 *   writes users to redis.conf, and refuses to start with both).
 * Throws the server's error when writing failed (no permission, file or directory not writable).
 */
export async function persistUsers(session: RedisSession, setting: PersistSetting): Promise<Persisted> {
  if (setting === "none") return "none";
  if (setting !== "config-rewrite") {
    try {
      await session.call("ACL", "SAVE");
      return "acl-file";
    } catch (error) {
      if (setting === "acl-file" || !NO_ACL_FILE.test(message(error))) throw error;
    }
  }
  try {
    await session.call("CONFIG", "REWRITE");
    return "config-rewrite";
  } catch (error) {
    if (NO_CONFIG_FILE.test(message(error))) return "none";
    throw error;
  }
}

/** What check() reports when persisting does not work, or undefined when it does. `self` is Sesame's own ACL user. */
export async function persistProblem(
  session: RedisSession,
  self: string,
  setting: PersistSetting,
): Promise<string | undefined> {
  try {
    await persistUsers(session, setting);
    return undefined;
  } catch (error) {
    const text = message(error);
    const command = /^NOPERM .*'([a-z|]+)' command/i.exec(text)?.[1];
    if (command === "config|rewrite") {
      return `the Redis server keeps its ACL users in redis.conf (it has no aclfile), so Sesame must run CONFIG REWRITE after every grant and revoke (persist: ${setting}); a revoked user would otherwise come back at the next restart once anyone rewrites the config: run ACL SETUSER ${self} +config|rewrite`;
    }
    if (command !== undefined)
      return `Sesame's ACL user "${self}" may not write the ACL users to the server's files (persist: ${setting}): run ACL SETUSER ${self} +${command}`;
    if (NO_ACL_FILE.test(text))
      return "persist is acl-file but the Redis server keeps no ACL file: set persist: auto (or config-rewrite) for this connector, or start Redis with an aclfile";
    return `Sesame cannot write the ACL users to the server's files (persist: ${setting}): ${describeError(error, [])}. ${redisAclHint(error)}`;
  }
}

/**
 * The error of a grant or revoke whose change is in memory but could not be written to the
 * server's files. A revoke throws it so that Sesame retries and alerts: the user is gone (or off)
 * for now, but a restart would bring it back.
 */
export function persistFailed(
  operation: { grant: { undone: boolean } } | "revoke",
  principal: string,
  setting: PersistSetting,
  error: unknown,
  secrets: readonly string[],
): AppError {
  const reason = `${describeError(error, secrets)}. ${redisAclHint(error)}`;
  if (operation !== "revoke") {
    const what = operation.grant.undone
      ? "was undone"
      : "failed, and undoing it in memory failed too (the revoke of the failed grant will retry)";
    return new AppError(
      "connector_failed",
      `the grant of "${principal}" ${what}: Sesame could not write the ACL users to the server's files (persist: ${setting}): ${reason}`,
    );
  }
  return new AppError(
    "connector_failed",
    `"${principal}" is removed in memory, but Sesame could not write the ACL users to the server's files (persist: ${setting}), so a restart of the server could bring the access back: ${reason}`,
  );
}
