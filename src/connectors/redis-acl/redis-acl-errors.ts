import type { AppError } from "../../domain/errors.js";
import { CONNECTION_LOST_CODES, connectionLostHint } from "../connection-lost.js";
import { describeError, errorCode, toConnectorError } from "../redact.js";

/** Turns Redis and socket errors into operator advice. Texts name settings and privileges, never values. */

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);

export function redisAclHint(error: unknown): string {
  const code = errorCode(error);
  const text = describeError(error, []);
  if ((code !== undefined && CONNECTION_LOST_CODES.has(code)) || /connection is closed/i.test(text))
    return connectionLostHint("the Redis server");
  if ((code !== undefined && UNREACHABLE.has(code)) || /timed? ?out/i.test(text)) {
    return "Check the host and port in the connector's url (rediss:// for TLS) and that the server accepts connections from Sesame, then retry.";
  }
  if (/^(WRONGPASS|NOAUTH)/.test(text)) {
    return "Check the user and password in the connector's url (the environment variable it comes from) and that this ACL user is on.";
  }
  const command = /^NOPERM .*'([a-z|]+)' command/i.exec(text)?.[1];
  if (command !== undefined)
    return `Sesame's ACL user lacks +${command}: add it with ACL SETUSER <sesame-user> +${command} (see src/connectors/redis-acl/README.md).`;
  if (/not configured to use an ACL file/i.test(text)) {
    return "The server keeps no ACL file: set persist: auto (or config-rewrite) for this connector, or start Redis with an aclfile.";
  }
  if (/Rewriting config file|error trying to save the ACLs/i.test(text)) {
    return "Redis could not write its aclfile or redis.conf (its log says why): let it write the file and its directory, then retry. Set persist: none only if nothing can ever write ACL users to this server's files.";
  }
  if (/Error in ACL SETUSER modifier/i.test(text)) {
    return "The server rejected one of the target's ACL rules (unknown command or category?); fix the resource's rules in the policy file.";
  }
  return "Check the Redis server and Sesame's ACL user there (see src/connectors/redis-acl/README.md), then retry.";
}

export function toRedisAclError(
  error: unknown,
  connector: string,
  action: string,
  secrets: readonly string[],
): AppError {
  return toConnectorError(error, { connector, action, secrets, hint: redisAclHint(error) });
}

/** The short reason plus advice, for `check()` problems. */
export function redisAclProblem(prefix: string, error: unknown, secrets: readonly string[]): string {
  return `${prefix}: ${describeError(error, secrets)}. ${redisAclHint(error)}`;
}
