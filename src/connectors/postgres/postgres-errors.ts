import type { AppError } from "../../domain/errors.js";
import { CONNECTION_LOST_CODES, connectionLostHint } from "../connection-lost.js";
import { describeError, errorCode, toConnectorError } from "../redact.js";

/** Turns driver errors into operator advice. Texts name settings and privileges, never values. */

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
/** The server ended the session: admin_shutdown (pg_terminate_backend, a fast shutdown), crash_shutdown, cannot_connect_now. */
const SESSION_ENDED = new Set(["57P01", "57P02", "57P03"]);

export function postgresHint(error: unknown): string {
  const code = errorCode(error);
  if (
    (code !== undefined && (CONNECTION_LOST_CODES.has(code) || SESSION_ENDED.has(code))) ||
    /terminated unexpectedly|not queryable/i.test(describeError(error, []))
  ) {
    return connectionLostHint("PostgreSQL");
  }
  if ((code !== undefined && UNREACHABLE.has(code)) || /timeout/i.test(describeError(error, []))) {
    return "Check the host and port in the connector's url and that the server accepts connections from Sesame, then retry.";
  }
  switch (code) {
    case "28P01":
    case "28000":
      return "Check the user and password in the connector's url (the environment variable it comes from) and pg_hba.conf.";
    case "3D000":
      return "The database named in the connector's url does not exist; fix the url.";
    case "42501":
      return "Sesame's account lacks a privilege: it needs ADMIN OPTION on the granted roles, CREATEROLE for login-role targets and pg_signal_backend to end sessions (see src/connectors/postgres/README.md).";
    case "42704":
      return "A role named in the resource's target or the principal does not exist on the target; create it or fix the policy file.";
    case "2BP01":
      return "The role owns objects or holds privileges; reassign or drop them (REASSIGN OWNED / DROP OWNED), then retry.";
    default:
      return "Check the target server and Sesame's privileges there (see src/connectors/postgres/README.md), then retry.";
  }
}

export function toPostgresError(
  error: unknown,
  connector: string,
  action: string,
  secrets: readonly string[],
): AppError {
  return toConnectorError(error, { connector, action, secrets, hint: postgresHint(error) });
}

/** The short reason plus advice, for `check()` problems. */
export function postgresProblem(prefix: string, error: unknown, secrets: readonly string[]): string {
  return `${prefix}: ${describeError(error, secrets)}. ${postgresHint(error)}`;
}
