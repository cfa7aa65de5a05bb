import pg from "pg";
import { isDatabaseUnreachable, TRANSACTION_TIMED_OUT } from "./database-errors.js";
import type { OutageLog } from "./outage-log.js";

/**
 * Plain SQL on the connection pool Prisma uses, for the write path's statements. Measured here, a
 * Prisma call costs 0.4–0.55 ms of CPU and an interactive transaction 1.2 ms for two statements,
 * against 0.08 ms and 0.25 ms for the same statements sent by `pg` (issue 11): with ~30 statements
 * per request lifecycle, that difference was most of Sesame's CPU.
 */
export interface Sql {
  /** The rows the statement returns (its RETURNING rows for a write). */
  rows<R>(text: string, values?: readonly unknown[]): Promise<R[]>;
  /** How many rows the statement changed. */
  run(text: string, values?: readonly unknown[]): Promise<number>;
}

/** Inside a transaction: writes whose answer nobody waits for can ride with the next round trip. */
export interface TransactionSql extends Sql {
  /**
   * Sends this write with the transaction's next statement (or its COMMIT), before it, in the same
   * round trip. Its failure fails that statement and so the transaction.
   */
  later(text: string, values?: readonly unknown[]): void;
}

/** A statement to send with a transaction's COMMIT, in the same round trip. */
export interface ClosingStatement {
  text: string;
  values: readonly unknown[];
}

export interface SqlPool extends Sql {
  /**
   * Runs `work` on one connection inside BEGIN … COMMIT, rolled back if it throws or outlives
   * `timeoutMs`. `closing`, asked once the work is done, is sent together with the COMMIT.
   */
  transaction<T>(
    work: (sql: TransactionSql) => Promise<T>,
    options: { timeoutMs: number; closing?: () => ClosingStatement | undefined },
  ): Promise<T>;
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

/**
 * PostgreSQL text cannot hold NUL. As a parameter the server refuses it (22021); written into a
 * simple query it would break the wire message instead, which reads as a lost connection (08P01).
 * Refused here with the server's own code, so it stays an ordinary bad-input error.
 */
function refuseNul(text: string): void {
  if (text.includes("\0"))
    throw Object.assign(new Error("text with a NUL character cannot be stored; remove it and try again"), {
      code: "22021",
    });
}

/** An array element as PostgreSQL's array text quotes it. */
function arrayElement(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") refuseNul(value);
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean")
    throw new Error("only arrays of text, numbers and booleans are sent");
  return `"${String(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * A parameter written into the statement as a quoted literal of the text pg would have sent for
 * it, so PostgreSQL infers its type from the context exactly as for a parameter. pg's
 * escapeLiteral doubles quotes and backslashes (E'' form): nothing in a value can end the literal.
 */
function literal(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") refuseNul(value);
  if (value instanceof Date) return pg.escapeLiteral(value.toISOString());
  if (Array.isArray(value)) return pg.escapeLiteral(`{${value.map(arrayElement).join(",")}}`);
  if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`${value} is not a number to send`);
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return pg.escapeLiteral(String(value));
  throw new Error(`a ${typeof value} is not sent as a parameter; stringify JSON first`);
}

/**
 * `text` with its $n parameters written in as literals (for the simple protocol, which has none).
 * Quoted strings in the text are left as they are; a parameter without a value is refused, as the
 * server refuses it in the extended protocol.
 */
function inlined(text: string, values: readonly unknown[]): string {
  return text.replace(/'(?:[^']|'')*'|\$(\d+)/g, (match: string, n: string | undefined) => {
    if (n === undefined) return match;
    const index = Number(n) - 1;
    if (index >= values.length) throw new Error(`the statement uses $${n} but has ${values.length} parameters`);
    return literal(values[index]);
  });
}

interface Queryable {
  query(config: pg.QueryConfig): Promise<pg.QueryResult | pg.QueryResult[]>;
}

type Send = (text: string, values: readonly unknown[]) => Promise<pg.QueryResult>;

/** Sends through `target`, telling `health` what each answer shows about the server. */
function sender(target: Queryable, health: OutageLog | undefined): (config: pg.QueryConfig) => Promise<pg.QueryResult> {
  return async (config) => {
    try {
      const result = await target.query({ ...config, types: TYPES });
      health?.up();
      // Several statements in one simple query answer with one result each: the last is the work's.
      return Array.isArray(result) ? (result.at(-1) as pg.QueryResult) : result;
    } catch (error) {
      if (isDatabaseUnreachable(error)) health?.down(error);
      throw error;
    }
  };
}

function sqlOver(send: Send): Sql {
  return {
    rows: async <R>(text: string, values: readonly unknown[] = []) => (await send(text, values)).rows as R[],
    run: async (text, values = []) => (await send(text, values)).rowCount ?? 0,
  };
}

/** Busy rather than broken: database-errors.ts counts its code as "unavailable, retry". */
export class TransactionTimedOut extends Error {
  readonly code = TRANSACTION_TIMED_OUT;
  constructor(timeoutMs: number) {
    super(`the database transaction ran longer than ${timeoutMs} ms and was rolled back; try again`);
  }
}

export function sqlPool(pool: pg.Pool, health?: OutageLog): SqlPool {
  const onPool = sender(pool, health);
  return {
    ...sqlOver((text, values) => onPool({ text, values: prepare(values) })),
    async transaction(work, { timeoutMs, closing }) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        if (isDatabaseUnreachable(error)) health?.down(error);
        throw error;
      }
      // pg-pool stops listening to a connection it lends out: a session the server ends meanwhile
      // (idle_in_transaction_session_timeout, a restart) would otherwise be an unhandled `error`
      // that ends the process. The statement under way fails on its own and says why.
      let connectionError: Error | undefined;
      const onConnectionError = (error: Error) => {
        connectionError = error;
      };
      client.on("error", onConnectionError);
      const onClient = sender(client, health);
      // Past its time the work's next statement fails and nothing is committed; the server's
      // idle_in_transaction_session_timeout ends a session whose work never comes back.
      let expired = false;
      const timer = setTimeout(() => {
        expired = true;
      }, timeoutMs);
      // Each round trip costs as much CPU as a statement's whole handling: statements nobody
      // waits for (BEGIN, `later` writes) wait here and go with the next statement, or with the
      // closing one and the COMMIT, as one simple-protocol query.
      const waiting: string[] = ["BEGIN"];
      let sent = false;
      // A statement the work sends after the transaction ended (an unawaited call) must not run
      // on a connection lent to someone else since.
      let finished = false;
      const usable = () => {
        if (finished) throw new Error("the transaction has already ended; the statement was not sent");
        if (expired) throw new TransactionTimedOut(timeoutMs);
      };
      const send: Send = async (text, values) => {
        usable();
        if (waiting.length === 0) {
          sent = true;
          return onClient({ text, values: prepare(values) });
        }
        // Written in before anything leaves the queue: a value refused here must not cost BEGIN.
        const statement = inlined(text, values);
        sent = true;
        return onClient({ text: [...waiting.splice(0), statement].join(";\n") });
      };
      const sql: TransactionSql = {
        ...sqlOver(send),
        later(text, values = []) {
          usable();
          waiting.push(inlined(text, values));
        },
      };
      // A connection whose ROLLBACK failed is in an unknown state: it is closed, not pooled again.
      let broken: Error | undefined;
      try {
        const result = await work(sql);
        usable();
        const last = closing?.();
        if (last) waiting.push(inlined(last.text, last.values));
        // Nothing sent and nothing to write: there is no transaction to commit.
        if (sent || waiting.length > 1) await onClient({ text: [...waiting.splice(0), "COMMIT"].join(";\n") });
        return result;
      } catch (error) {
        // Whatever was sent (a failed closing query may have begun the transaction), the
        // connection goes back with none open; ROLLBACK outside one is only a warning.
        broken = await client.query("ROLLBACK").then(
          () => undefined,
          (rollbackError: unknown) =>
            rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError)),
        );
        throw error;
      } finally {
        finished = true;
        clearTimeout(timer);
        client.off("error", onConnectionError);
        client.release(broken ?? connectionError);
      }
    },
  };
}
