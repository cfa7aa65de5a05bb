import pg from "pg";
import { isDatabaseUnreachable } from "./database-errors.js";
import type { OutageLog } from "./outage-log.js";

/**
 * Plain SQL on the connection pool Prisma uses, for the write path's statements. Measured here, a
 * Prisma call costs 0.4–0.55 ms of CPU and an interactive transaction 1.2 ms for two statements,
 * against 0.08 ms and 0.25 ms for the same statements sent by `pg` (tmp microbench, issue 11):
 * with ~30 statements per request lifecycle, that difference was most of Sesame's CPU.
 */
export interface Sql {
  /** The rows the statement returns (its RETURNING rows for a write). */
  rows<R>(text: string, values?: readonly unknown[]): Promise<R[]>;
  /** How many rows the statement changed. */
  run(text: string, values?: readonly unknown[]): Promise<number>;
}

/** The pool and who hears about outages; `transaction` runs work on one connection. */
export interface SqlPool extends Sql {
  transaction<T>(work: (sql: Sql) => Promise<T>, options: { timeoutMs: number }): Promise<T>;
}

const TIMESTAMP_WITHOUT_ZONE = 1114;
/** Prisma stores DateTime as `timestamp(3)` holding UTC: read it as UTC whatever the process's zone. */
const parseUtcTimestamp = (text: string): Date => new Date(`${text.replace(" ", "T")}Z`);
const TYPES = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === TIMESTAMP_WITHOUT_ZONE && format !== "binary"
      ? parseUtcTimestamp
      : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
};

/**
 * Dates go as UTC ISO text (pg would send local time with an offset, which `timestamp` drops);
 * JSON documents are passed already stringified by the callers, arrays go as PostgreSQL arrays.
 */
const prepare = (values: readonly unknown[]): unknown[] =>
  values.map((value) => (value instanceof Date ? value.toISOString() : value));

interface Queryable {
  query(config: pg.QueryConfig): Promise<pg.QueryResult>;
}

function sqlOn(target: Queryable, health: OutageLog | undefined, beforeEach: () => void = () => undefined): Sql {
  const send = async (text: string, values: readonly unknown[] = []): Promise<pg.QueryResult> => {
    beforeEach();
    try {
      const result = await target.query({ text, values: prepare(values), types: TYPES });
      health?.up();
      return result;
    } catch (error) {
      if (isDatabaseUnreachable(error)) health?.down(error);
      throw error;
    }
  };
  return {
    rows: async <R>(text: string, values?: readonly unknown[]) => (await send(text, values)).rows as R[],
    run: async (text, values) => (await send(text, values)).rowCount ?? 0,
  };
}

class TransactionTimedOut extends Error {
  constructor(timeoutMs: number) {
    super(`the database transaction ran longer than ${timeoutMs} ms and was rolled back; try again`);
  }
}

export function sqlPool(pool: pg.Pool, health?: OutageLog): SqlPool {
  return {
    ...sqlOn(pool, health),
    async transaction(work, { timeoutMs }) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        if (isDatabaseUnreachable(error)) health?.down(error);
        throw error;
      }
      // Past its time the work's next statement fails and nothing is committed; the server's
      // idle_in_transaction_session_timeout ends a session whose work never comes back.
      let expired = false;
      const timer = setTimeout(() => {
        expired = true;
      }, timeoutMs);
      const sql = sqlOn(client, health, () => {
        if (expired) throw new TransactionTimedOut(timeoutMs);
      });
      // A connection whose ROLLBACK failed is in an unknown state: it is closed, not pooled again.
      let broken: Error | undefined;
      try {
        await sql.run("BEGIN");
        const result = await work(sql);
        await sql.run("COMMIT");
        return result;
      } catch (error) {
        broken = await client.query("ROLLBACK").then(
          () => undefined,
          (rollbackError: unknown) =>
            rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError)),
        );
        throw error;
      } finally {
        clearTimeout(timer);
        client.release(broken);
      }
    },
  };
}
