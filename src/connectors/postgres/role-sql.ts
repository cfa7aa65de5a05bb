import pg from "pg";
import { AppError } from "../../domain/errors.js";

/** SQL shared by both target modes. Names are always quoted with pg's escapeIdentifier. */

export type Queryable = Pick<pg.ClientBase, "query">;

export const ident = (name: string): string => pg.escapeIdentifier(name);
export const literal = (text: string): string => pg.escapeLiteral(text);

/** How long revoke waits for each terminated session to actually end. */
const TERMINATE_WAIT_MS = 5_000;

/**
 * Ends every session of `roleName` (except our own). Privileges a session already holds, e.g.
 * after SET ROLE or an open connection, survive a REVOKE; only ending the session removes them.
 */
export async function terminateSessions(client: Queryable, roleName: string): Promise<number> {
  const result = await client.query<{ pid: number; ended: boolean }>(
    `SELECT pid, pg_terminate_backend(pid, $2) AS ended FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`,
    [roleName, TERMINATE_WAIT_MS],
  );
  const survivors = result.rows.filter((row) => !row.ended).length;
  if (survivors > 0) {
    throw new AppError(
      "connector_failed",
      `${survivors} session(s) of role "${roleName}" did not end within ${TERMINATE_WAIT_MS / 1000}s; the revoke will be retried.`,
    );
  }
  return result.rows.length;
}

/** Runs `work` in a transaction; the caller discards the connection if it throws. */
export async function inTransaction<T>(client: Queryable, work: () => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    const result = await work();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

export interface RoleRow {
  oid: number;
  canLogin: boolean;
  comment: string | null;
}

export async function findRole(client: Queryable, name: string): Promise<RoleRow | undefined> {
  const result = await client.query<{ oid: number; rolcanlogin: boolean; comment: string | null }>(
    `SELECT oid, rolcanlogin, shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = $1`,
    [name],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : { oid: row.oid, canLogin: row.rolcanlogin, comment: row.comment };
}
