import type { AppError } from "../../domain/errors.js";
import { CONNECTION_LOST_CODES, connectionLostHint } from "../connection-lost.js";
import { describeError, errorCode, toConnectorError } from "../redact.js";

/** Turns driver errors into operator advice. Texts name settings and privileges, never values. */

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOENT",
]);
/** The session ended under the call: the server closed it, an administrator killed it, or it is shutting down. */
const SESSION_ENDED = new Set(["PROTOCOL_CONNECTION_LOST", "ER_CONNECTION_KILLED", "ER_SERVER_SHUTDOWN"]);
const MISSING_PRIVILEGE = new Set([
  "ER_DBACCESS_DENIED_ERROR",
  "ER_TABLEACCESS_DENIED_ERROR",
  "ER_COLUMNACCESS_DENIED_ERROR",
  "ER_SPECIFIC_ACCESS_DENIED_ERROR",
  "ER_KILL_DENIED_ERROR",
  "ER_CANT_CREATE_USER_WITH_GRANT",
]);
const README = "src/connectors/mysql/README.md";

export function mysqlHint(error: unknown): string {
  const code = errorCode(error) ?? "";
  if (CONNECTION_LOST_CODES.has(code) || SESSION_ENDED.has(code) || /closed state/i.test(describeError(error, [])))
    return connectionLostHint("the MySQL/MariaDB server");
  if (UNREACHABLE.has(code) || /timeout/i.test(describeError(error, []))) {
    return "Check the host and port (or socketPath) in the connector's url and that the server accepts connections from Sesame, then retry.";
  }
  if (code === "ER_ACCESS_DENIED_ERROR")
    return "Check the user and password in the connector's url (the environment variable it comes from) and the account's host pattern.";
  if (MISSING_PRIVILEGE.has(code))
    return `Sesame's account lacks a privilege; run the connector's check to see which, and see ${README}.`;
  if (code === "ER_BAD_DB_ERROR")
    return "A database in the connector's url or its ledgerDatabase does not exist; create it or fix the policy file.";
  if (code === "ER_INVALID_ROLE")
    return "The role in the resource's target does not exist or is not granted; create it or fix the policy file.";
  if (code === "ER_PASSWORD_NO_MATCH")
    return "The requester's account does not exist on the target; create it or fix the identity mapping.";
  return `Check the target server and Sesame's privileges there (see ${README}), then retry.`;
}

export function toMysqlError(error: unknown, connector: string, action: string, secrets: readonly string[]): AppError {
  return toConnectorError(error, { connector, action, secrets, hint: mysqlHint(error) });
}

/** The short reason plus advice, for `check()` problems. */
export function mysqlProblem(prefix: string, error: unknown, secrets: readonly string[]): string {
  return `${prefix}: ${describeError(error, secrets)}. ${mysqlHint(error)}`;
}
