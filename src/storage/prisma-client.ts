import { setFlagsFromString } from "node:v8";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.js";
import { observedAdapter } from "./observed-adapter.js";
import type { OutageLog } from "./outage-log.js";
import { type SqlPool, sqlPool } from "./sql.js";

export type Database = PrismaClient;

/**
 * Connections per process. No transaction stays open across a connector call, so a connection is
 * held only for the milliseconds of one transaction; jobs beyond the pool wait briefly for one.
 */
export const DATABASE_POOL_SIZE = 30;

export interface DatabaseOptions {
  /** How long to wait for a connection, new or free in the pool, before the call fails (SESAME_DB_CONNECT_TIMEOUT). */
  connectTimeoutSeconds: number;
  /** The server cancels a statement running longer (SESAME_DB_STATEMENT_TIMEOUT). */
  statementTimeoutSeconds: number;
  /** Told of every failure that shows the database is gone and of every answer. */
  health?: OutageLog;
}

/**
 * - `query_timeout` is the client's own limit, for a connection gone half-open that never answers:
 *   the server's statement_timeout cannot fire there. It is longer, so on a live server the
 *   server's fires first.
 * - `idle_in_transaction_session_timeout`: a transaction whose client vanished (crashed, or cut
 *   off half-open) would otherwise hold its row locks until the server's TCP keepalive notices,
 *   hours later. No Sesame transaction waits between its statements on anything but itself.
 */
function poolTimeouts({ connectTimeoutSeconds, statementTimeoutSeconds }: DatabaseOptions) {
  return {
    connectionTimeoutMillis: connectTimeoutSeconds * 1000,
    statement_timeout: statementTimeoutSeconds * 1000,
    query_timeout: (statementTimeoutSeconds + connectTimeoutSeconds) * 1000,
    idle_in_transaction_session_timeout: statementTimeoutSeconds * 1000,
  };
}

/** The plain SQL side of each client createDatabase built: the same pool, the same outage log. */
const sqlPools = new WeakMap<Database, SqlPool>();

/**
 * The only place the Prisma client is built; everything else goes through repositories. Without
 * options (tests, one-off tools) the pool keeps pg's defaults: no timeouts. Prisma and the write
 * path's plain SQL (sqlPoolOf) share one pool, so the connection budget stays DATABASE_POOL_SIZE.
 */
export function createDatabase(databaseUrl: string, options?: DatabaseOptions): Database {
  compileQueryCompilerCompactly();
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: DATABASE_POOL_SIZE,
    ...(options ? poolTimeouts(options) : {}),
  });
  // An idle connection died (server restart, network cut): the pool has already dropped it and
  // the next statement opens a new one, whose failure tells the outage log if the server is
  // really gone. Heard here, the pool's `error` event cannot crash the process.
  pool.on("error", () => undefined);
  const adapter = new PrismaPg(pool);
  const db = new PrismaClient({ adapter: options?.health ? observedAdapter(adapter, options.health) : adapter });
  sqlPools.set(db, sqlPool(pool, options?.health));
  // The pool is Sesame's, not the adapter's: Prisma ends only what it connected itself, and a
  // command that ran plain SQL alone would otherwise wait for idle connections to time out.
  const disconnectPrisma = db.$disconnect.bind(db);
  db.$disconnect = async () => {
    await disconnectPrisma();
    if (!pool.ending && !pool.ended) await pool.end();
  };
  return db;
}

/** Plain SQL on `db`'s own pool (see src/storage/sql.ts for why). */
export function sqlPoolOf(db: Database): SqlPool {
  const sql = sqlPools.get(db);
  if (!sql) throw new Error("this database client was not built by createDatabase; build it there");
  return sql;
}

/**
 * Prisma 7 plans queries in a WebAssembly query compiler. V8's optimising tier (TurboFan) turns it
 * into ~80 MiB of machine code per process, most of an idle worker's memory; its baseline tier
 * (Liftoff) alone keeps RSS near 130 MiB instead of 215 MiB at no measurable CPU cost per
 * lifecycle (npm run bench: 18.0 vs 20.5 ms, same run, load 1.2). The flag only affects modules
 * compiled after it is set, so it must come before the first PrismaClient; setting it again is a
 * no-op.
 */
function compileQueryCompilerCompactly(): void {
  setFlagsFromString("--liftoff-only");
}
