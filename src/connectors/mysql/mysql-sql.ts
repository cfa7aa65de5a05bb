import { createHash } from "node:crypto";
import mysql from "mysql2/promise";
import { AppError } from "../../domain/errors.js";
import { errorCode } from "../redact.js";
import { PRIVILEGES, type Privilege, parseGrantObject } from "./mysql-config.js";

/**
 * Quoting and small query helpers. Names are validated by the schemas in mysql-config.ts and
 * still always quoted: identifiers with backticks (escapeId), account parts as string literals.
 */

export type Queryable = Pick<mysql.Connection, "query">;

/** A requester account: `'user'@'host'`. */
export interface Account {
  user: string;
  host: string;
}

export const ident = (name: string): string => mysql.escapeId(name, true);
export const literal = (value: string): string => mysql.escape(value);
export const accountSql = (account: Account): string => `${literal(account.user)}@${literal(account.host)}`;
export const accountLabel = (account: Account): string => `${account.user}@${account.host}`;

/**
 * In a database-level GRANT, `_` in the database name is a LIKE wildcard: `my_db`.* would also
 * match `myXdb`. Escaped, the grant (and its mysql.db row) covers exactly the named database.
 */
export const escapeWildcards = (database: string): string => database.replace(/_/g, "\\_");

/** The `ON` part of a GRANT/REVOKE for a validated `db.*` / `db.table`. */
export function grantObjectSql(on: string): string {
  const { database, table } = parseGrantObject(on);
  return table === null ? `${ident(escapeWildcards(database))}.*` : `${ident(database)}.${ident(table)}`;
}

/** The privilege keyword as written in SQL; only names from the allow-list get here. */
export function privilegeSql(privilege: Privilege): string {
  if (!(privilege in PRIVILEGES)) throw new Error(`not an allowed privilege: ${privilege}`);
  return privilege;
}

export async function select<T>(client: Queryable, sql: string, values: unknown[] = []): Promise<T[]> {
  const [rows] = await client.query(sql, values);
  return rows as T[];
}

export const isMissingTable = (error: unknown): boolean => errorCode(error) === "ER_NO_SUCH_TABLE";

const LOCK_WAIT_SECONDS = 10;

/**
 * Runs `work` holding a server-side named lock for the account, so that two Sesame processes
 * granting or revoking for the same account cannot both decide "the other grant still holds it"
 * and leave the access behind. The server drops the lock if the connection dies.
 */
export async function withAccountLock<T>(client: Queryable, account: Account, work: () => Promise<T>): Promise<T> {
  // MySQL limits lock names to 64 characters.
  const name = `sesame:${createHash("sha256").update(accountLabel(account)).digest("hex").slice(0, 40)}`;
  const [row] = await select<{ locked: number | null }>(client, "SELECT GET_LOCK(?, ?) AS locked", [
    name,
    LOCK_WAIT_SECONDS,
  ]);
  if (row?.locked !== 1)
    throw new AppError(
      "connector_failed",
      `Another Sesame operation on account ${accountLabel(account)} did not finish within ${LOCK_WAIT_SECONDS}s; retry.`,
    );
  let result: T;
  try {
    result = await work();
  } catch (error) {
    // After a lost connection the release fails as well (the server dropped the lock with the
    // session): report why the work failed, not that.
    await client.query("DO RELEASE_LOCK(?)", [name]).catch(() => undefined);
    throw error;
  }
  await client.query("DO RELEASE_LOCK(?)", [name]);
  return result;
}
