import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { isDatabaseUnavailable, isDatabaseUnreachable } from "../../src/storage/database-errors.js";
import type { OutageLog } from "../../src/storage/outage-log.js";
import { createDatabase, type Database, sqlPoolOf } from "../../src/storage/prisma-client.js";
import { type Sql, type SqlPool, sqlPool, TransactionTimedOut } from "../../src/storage/sql.js";
import { expectingRows, insertRow, updateVersionedRow } from "../../src/storage/sql-rows.js";
import { createMigratedDatabase } from "../helpers/database.js";

/**
 * Plain SQL on Prisma's pool (src/storage/sql.ts), against a real PostgreSQL: timestamps as UTC,
 * transactions (commit, rollback, the time limit), a connection whose ROLLBACK failed, the outage
 * log, and the INSERT / versioned UPDATE builders of src/storage/sql-rows.ts.
 */

const database = await createMigratedDatabase("storage_sql");
let db: Database;
let sql: SqlPool;

/** A table of our own, shaped like Prisma's: defaults to tell "not written" from "written". */
const PROBE_TABLE = `
  CREATE TABLE "SqlProbe" (
    "id" TEXT PRIMARY KEY,
    "label" TEXT NOT NULL DEFAULT 'label-default',
    "note" TEXT DEFAULT 'note-default',
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
  )`;
const TIME_TABLE = `CREATE TABLE "SqlTimeProbe" ("id" TEXT PRIMARY KEY, "at" TIMESTAMP(3) NOT NULL)`;

interface ProbeRow {
  id: string;
  label: string;
  note: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

beforeAll(async () => {
  db = createDatabase(database.url);
  sql = sqlPoolOf(db);
  await sql.run(PROBE_TABLE);
  await sql.run(TIME_TABLE);
});

/** Pools a test builds itself, to watch what happens to their connections. */
const ownPools: pg.Pool[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(ownPools.splice(0).map((pool) => pool.end()));
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

function recordingHealth() {
  return { down: vi.fn<(error: unknown) => void>(), up: vi.fn<() => void>() } satisfies OutageLog;
}

/** A pool on the test database whose releases (and the error each was released with) are recorded. */
function ownPool(options: pg.PoolConfig = {}) {
  const pool = new pg.Pool({ connectionString: database.url, ...options });
  ownPools.push(pool);
  // As createDatabase does: an idle connection's death must not crash the test process.
  pool.on("error", () => undefined);
  const releases: (Error | undefined)[] = [];
  pool.on("release", (error: Error | undefined) => void releases.push(error));
  return { pool, releases };
}

/** A point the work stops at until the test lets it go on. */
function checkpoint() {
  let reached!: () => void;
  let resume!: () => void;
  const arrived = new Promise<void>((resolveArrived) => (reached = resolveArrived));
  const released = new Promise<void>((resolveReleased) => (resume = resolveReleased));
  return {
    /** Called by the work: signals the test and waits for it. */
    pass: async () => {
      reached();
      await released;
    },
    arrived,
    resume,
  };
}

async function probeIds(ids: readonly string[]): Promise<string[]> {
  const rows = await sql.rows<{ id: string }>(
    `SELECT "id" FROM "SqlProbe" WHERE "id" = ANY($1::text[]) ORDER BY "id"`,
    [ids],
  );
  return rows.map((row) => row.id);
}

const wallTime = (instant: Date): string => instant.toISOString().replace("T", " ").replace("Z", "");

describe("timestamps", () => {
  it("writes a Date as its UTC wall time in a timestamp(3) column and reads it back as the same instant", async () => {
    const createdAt = new Date(Date.UTC(2024, 0, 15, 23, 59, 58, 123));
    const updatedAt = new Date(Date.UTC(2024, 6, 1, 0, 30, 0, 7));
    const id = randomUUID();
    await sql.run(`INSERT INTO "Identity" ("id", "email", "createdAt", "updatedAt") VALUES ($1, $2, $3, $4)`, [
      id,
      `${id}@example.test`,
      createdAt,
      updatedAt,
    ]);

    const [row] = await sql.rows<{ createdAt: Date; updatedAt: Date; createdWall: string; updatedWall: string }>(
      `SELECT "createdAt", "updatedAt",
              to_char("createdAt", 'YYYY-MM-DD HH24:MI:SS.MS') AS "createdWall",
              to_char("updatedAt", 'YYYY-MM-DD HH24:MI:SS.MS') AS "updatedWall"
       FROM "Identity" WHERE "id" = $1`,
      [id],
    );
    expect(row?.createdAt).toBeInstanceOf(Date);
    expect(row?.createdAt.getTime()).toBe(Date.UTC(2024, 0, 15, 23, 59, 58, 123));
    expect(row?.updatedAt.getTime()).toBe(Date.UTC(2024, 6, 1, 0, 30, 0, 7));
    // What PostgreSQL holds is the UTC wall time, as Prisma writes it.
    expect(row?.createdWall).toBe("2024-01-15 23:59:58.123");
    expect(row?.updatedWall).toBe("2024-07-01 00:30:00.007");

    // Prisma, sharing the table, reads the same instants back.
    const seenByPrisma = await db.identity.findUniqueOrThrow({ where: { id } });
    expect(seenByPrisma.createdAt.getTime()).toBe(createdAt.getTime());
    expect(seenByPrisma.updatedAt.getTime()).toBe(updatedAt.getTime());

    // A Date as a parameter compares against the stored value as the same instant.
    const found = await sql.rows<{ id: string }>(`SELECT "id" FROM "Identity" WHERE "id" = $1 AND "createdAt" = $2`, [
      id,
      new Date(createdAt.getTime()),
    ]);
    expect(found).toEqual([{ id }]);
  });

  it("reads a row Prisma wrote as the instant Prisma wrote", async () => {
    const createdAt = new Date(Date.UTC(2023, 11, 31, 23, 0, 0, 999));
    const id = randomUUID();
    await db.identity.create({ data: { id, email: `${id}@example.test`, createdAt } });
    const [row] = await sql.rows<{ createdAt: Date }>(`SELECT "createdAt" FROM "Identity" WHERE "id" = $1`, [id]);
    expect(row?.createdAt.getTime()).toBe(createdAt.getTime());
  });

  /**
   * Node reads TZ once, at start: a test file cannot move its own process to another zone, so a
   * child process in each zone runs the round trip. Zones with half- and quarter-hour offsets,
   * and instants near midnight, so a zone applied anywhere would show in the date or the minutes.
   */
  const CHILD = `
import { createRequire } from "node:module";
const [projectRoot, sqlModule, url, ...instants] = process.argv.slice(2);
const pg = createRequire(projectRoot + "/package.json")("pg");
const { sqlPool } = await import(sqlModule);
const pool = new pg.Pool({ connectionString: url, max: 1 });
const sql = sqlPool(pool);
const results = [];
for (const iso of instants) {
  const id = "tz-" + process.env.TZ + "-" + iso;
  await sql.run('INSERT INTO "SqlTimeProbe" ("id", "at") VALUES ($1, $2)', [id, new Date(iso)]);
  const [row] = await sql.rows(
    "SELECT \\"at\\", to_char(\\"at\\", 'YYYY-MM-DD HH24:MI:SS.MS') AS wall FROM \\"SqlTimeProbe\\" WHERE \\"id\\" = $1",
    [id],
  );
  const found = await sql.rows('SELECT "id" FROM "SqlTimeProbe" WHERE "id" = $1 AND "at" = $2', [id, new Date(iso)]);
  // A transaction's first statement goes with its BEGIN, its parameters written in as literals.
  await sql.transaction(
    (tx) => tx.run('INSERT INTO "SqlTimeProbe" ("id", "at") VALUES ($1, $2)', [id + "-tx", new Date(iso)]),
    { timeoutMs: 60000 },
  );
  const [inTransaction] = await sql.rows(
    "SELECT to_char(\\"at\\", 'YYYY-MM-DD HH24:MI:SS.MS') AS wall FROM \\"SqlTimeProbe\\" WHERE \\"id\\" = $1",
    [id + "-tx"],
  );
  // pg's own parser, for contrast: it reads the column as local time.
  const plain = await pool.query('SELECT "at" FROM "SqlTimeProbe" WHERE "id" = $1', [id]);
  results.push({
    iso,
    offsetMinutes: new Date(iso).getTimezoneOffset(),
    readBack: row.at.toISOString(),
    wall: row.wall,
    foundByDate: found.length === 1,
    wallInTransaction: inTransaction.wall,
    plainRead: plain.rows[0].at.toISOString(),
  });
}
await pool.end();
console.log(JSON.stringify(results));
`;

  it.each(["America/St_Johns", "Asia/Kathmandu"])("round-trips as UTC in a process whose TZ is %s", async (zone) => {
    const dir = await mkdtemp(join(tmpdir(), "sesame-sql-tz-"));
    try {
      const script = join(dir, "probe.mts");
      await writeFile(script, CHILD);
      const root = resolve(import.meta.dirname, "../..");
      const instants = ["2024-01-15T23:59:58.123Z", "2024-07-01T00:30:00.007Z"];
      const { stdout } = await promisify(execFile)(
        join(root, "node_modules/.bin/tsx"),
        [script, root, pathToFileURL(join(root, "src/storage/sql.ts")).href, database.url, ...instants],
        { cwd: root, env: { ...process.env, TZ: zone } },
      );
      const results = JSON.parse(stdout.trim().split("\n").at(-1) ?? "[]") as {
        iso: string;
        offsetMinutes: number;
        readBack: string;
        wall: string;
        foundByDate: boolean;
        wallInTransaction: string;
        plainRead: string;
      }[];
      expect(results.map((result) => result.iso)).toEqual(instants);
      for (const result of results) {
        // The child really ran in another zone, where pg's default reading is off by its offset.
        expect(result.offsetMinutes).not.toBe(0);
        expect(new Date(result.plainRead).getTime() - new Date(result.iso).getTime()).toBe(
          result.offsetMinutes * 60_000,
        );
        // Through Sql: stored as the UTC wall time, read back as the same instant, found by it.
        expect(result.wall).toBe(wallTime(new Date(result.iso)));
        expect(result.readBack).toBe(result.iso);
        expect(result.foundByDate).toBe(true);
        expect(result.wallInTransaction).toBe(wallTime(new Date(result.iso)));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("transaction", () => {
  it("commits the work's statements on one connection and returns its result", async () => {
    const ids = [randomUUID(), randomUUID()].sort();
    const result = await sql.transaction(
      async (tx) => {
        const inserted = await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1), ($2)`, ids);
        // Not committed yet: the transaction's own connection sees the rows, another does not.
        const inside = await tx.rows<{ id: string }>(`SELECT "id" FROM "SqlProbe" WHERE "id" = ANY($1::text[])`, [ids]);
        const outside = await probeIds(ids);
        return { inserted, inside: inside.length, outside: outside.length };
      },
      { timeoutMs: 60_000 },
    );
    expect(result).toEqual({ inserted: 2, inside: 2, outside: 0 });
    expect(await probeIds(ids)).toEqual(ids);
  });

  it("rolls back when the work throws, and the caller gets the work's own error", async () => {
    const id = randomUUID();
    const failure = new Error("the work gave up");
    const outcome = sql.transaction(
      async (tx) => {
        await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [id]);
        expect(await tx.rows(`SELECT "id" FROM "SqlProbe" WHERE "id" = $1`, [id])).toHaveLength(1);
        throw failure;
      },
      { timeoutMs: 60_000 },
    );
    await expect(outcome).rejects.toBe(failure);
    expect(await probeIds([id])).toEqual([]);
  });

  it("rolls back the earlier statements when a later one fails, passing the database's error on", async () => {
    const id = randomUUID();
    const outcome = sql.transaction(
      async (tx) => {
        await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [id]);
        await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [id]);
      },
      { timeoutMs: 60_000 },
    );
    await expect(outcome).rejects.toMatchObject({ code: "23505" });
    expect(await probeIds([id])).toEqual([]);
  });

  it("writes a first statement's parameters in exactly, however awkward the text", async () => {
    // The first statement goes with BEGIN as one simple query, its parameters inlined as literals.
    const id = randomUUID();
    const label = `it's a \\ "quoted" $2 value'); DROP TABLE "SqlProbe"; --`;
    const note = "über\n\tline ☃ E'\\x41'";
    const createdAt = new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
    const inserted = await sql.transaction(
      (tx) =>
        tx.rows<ProbeRow>(
          `INSERT INTO "SqlProbe" ("id", "label", "note", "version", "createdAt") VALUES ($1, $2, $3, $4, $5) RETURNING *`,
          [id, label, note, 7, createdAt],
        ),
      { timeoutMs: 60_000 },
    );
    expect(inserted).toHaveLength(1);
    expect(inserted[0]).toMatchObject({ id, label, note, version: 7, createdAt });
    const [stored] = await sql.rows<ProbeRow & { wall: string }>(
      `SELECT *, to_char("createdAt", 'YYYY-MM-DD HH24:MI:SS.MS') AS "wall" FROM "SqlProbe" WHERE "id" = $1`,
      [id],
    );
    expect(stored).toMatchObject({ label, note, version: 7, wall: "2024-02-29 23:59:59.999" });

    // An array and a NULL as a first statement's parameters.
    const found = await sql.transaction(
      (tx) =>
        tx.rows<{ id: string }>(`SELECT "id" FROM "SqlProbe" WHERE "id" = ANY($1::text[]) AND $2::text IS NULL`, [
          [id, `no "such" id`, "back\\slash"],
          null,
        ]),
      { timeoutMs: 60_000 },
    );
    expect(found).toEqual([{ id }]);
  });

  it("sends the closing statement with the COMMIT, and rolls everything back when it fails", async () => {
    const [workId, closingId] = [randomUUID(), randomUUID()];
    const result = await sql.transaction(
      async (tx) => {
        await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [workId]);
        return "done";
      },
      {
        timeoutMs: 60_000,
        closing: () => ({
          text: `INSERT INTO "SqlProbe" ("id", "label") VALUES ($1, $2)`,
          values: [closingId, "it's closing"],
        }),
      },
    );
    expect(result).toBe("done");
    expect(await probeIds([workId, closingId])).toEqual([workId, closingId].sort());
    const [closingRow] = await sql.rows<ProbeRow>(`SELECT * FROM "SqlProbe" WHERE "id" = $1`, [closingId]);
    expect(closingRow?.label).toBe("it's closing");

    // A closing statement that fails (the id exists) undoes the work's statements too.
    const otherId = randomUUID();
    const failed = sql.transaction(
      async (tx) => {
        await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [otherId]);
      },
      {
        timeoutMs: 60_000,
        closing: () => ({ text: `INSERT INTO "SqlProbe" ("id") VALUES ($1)`, values: [closingId] }),
      },
    );
    await expect(failed).rejects.toMatchObject({ code: "23505" });
    expect(await probeIds([otherId])).toEqual([]);

    // With no statement from the work, the closing one alone is committed in a transaction.
    const aloneId = randomUUID();
    await sql.transaction(async () => "nothing sent", {
      timeoutMs: 60_000,
      closing: () => ({ text: `INSERT INTO "SqlProbe" ("id") VALUES ($1)`, values: [aloneId] }),
    });
    expect(await probeIds([aloneId])).toEqual([aloneId]);
  });

  it("sends nothing for work without statements and without a closing one, and leaves the connection clean", async () => {
    const { pool, releases } = ownPool({ max: 1 });
    const health = recordingHealth();
    const quiet = sqlPool(pool, health);
    expect(await quiet.transaction(async () => 42, { timeoutMs: 60_000 })).toBe(42);
    expect(health.up).not.toHaveBeenCalled();
    expect(releases).toEqual([undefined]);
    // The same (only) connection is outside any transaction afterwards.
    const [state] = await quiet.rows<{ inTransaction: boolean }>(
      `SELECT now() <> statement_timestamp() AS "inTransaction"`,
    );
    expect(state?.inTransaction).toBe(false);
  });

  it("refuses the work's next statement once the time limit has passed, and commits nothing", async () => {
    const { pool, releases } = ownPool({ max: 1 });
    const health = recordingHealth();
    const timed = sqlPool(pool, health);
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const inTime = checkpoint();
    const late = checkpoint();
    // Only the timers are fake: the statements still go to PostgreSQL and back.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const outcome = timed.transaction(
      async (tx) => {
        await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [ids[0]]);
        await inTime.pass();
        await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [ids[1]]);
        await late.pass();
        await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [ids[2]]);
        return "finished";
      },
      { timeoutMs: 50 },
    );
    await inTime.arrived;
    vi.advanceTimersByTime(49);
    inTime.resume();
    await late.arrived;
    vi.advanceTimersByTime(1);
    late.resume();
    await expect(outcome).rejects.toThrow(
      "the database transaction ran longer than 50 ms and was rolled back; try again",
    );
    vi.useRealTimers();

    expect(await probeIds(ids)).toEqual([]);
    // The ROLLBACK went through: the connection went back to the pool as a good one, and a slow
    // transaction is no outage.
    expect(releases).toEqual([undefined]);
    expect(health.down).not.toHaveBeenCalled();
    expect(await timed.rows(`SELECT 1 AS "one"`)).toEqual([{ one: 1 }]);
  });

  it("refuses to commit work that came back after the time limit without another statement", async () => {
    const { pool } = ownPool({ max: 1 });
    const timed = sqlPool(pool);
    const id = randomUUID();
    const slow = checkpoint();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const outcome = timed.transaction(
      async (tx) => {
        await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [id]);
        await slow.pass();
        return "finished";
      },
      { timeoutMs: 20 },
    );
    await slow.arrived;
    vi.advanceTimersByTime(20);
    slow.resume();
    await expect(outcome).rejects.toThrow("ran longer than 20 ms and was rolled back");
    vi.useRealTimers();
    expect(await probeIds([id])).toEqual([]);
  });

  it("does not pool again a connection whose ROLLBACK failed; the pool goes on answering", async () => {
    // One connection: were the broken one pooled again, the next statement would get it.
    const { pool, releases } = ownPool({ max: 1 });
    // The session is killed while the work holds it: pg emits that as an `error` event on the
    // lent client, which must be heard (unheard, it is an uncaught exception ending the process).
    const killer = new pg.Client({ connectionString: database.url });
    await killer.connect();
    const id = randomUUID();
    const failure = new Error("the work failed after its session was killed");
    let killedPid: number | undefined;
    try {
      const outcome = sqlPool(pool).transaction(
        async (tx) => {
          await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [id]);
          const [me] = await tx.rows<{ pid: number }>(`SELECT pg_backend_pid() AS "pid"`);
          killedPid = me?.pid;
          const { rows } = await killer.query<{ terminated: boolean }>(
            `SELECT pg_terminate_backend($1, 30000) AS "terminated"`,
            [killedPid],
          );
          expect(rows).toEqual([{ terminated: true }]);
          await expect(tx.rows(`SELECT 1`)).rejects.toThrow();
          throw failure;
        },
        { timeoutMs: 60_000 },
      );
      await expect(outcome).rejects.toBe(failure);
    } finally {
      await killer.end();
    }

    // Released with the ROLLBACK's error: pg-pool closes it instead of pooling it again.
    expect(releases).toHaveLength(1);
    expect(releases[0]).toBeInstanceOf(Error);
    const [after] = await sqlPool(pool).rows<{ pid: number }>(`SELECT pg_backend_pid() AS "pid"`);
    expect(after?.pid).toEqual(expect.any(Number));
    expect(after?.pid).not.toBe(killedPid);
    expect(await probeIds([id])).toEqual([]);
  });
});

describe("outage log", () => {
  const unreachable = () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const pool = new pg.Pool({ connectionString: "postgresql://postgres@127.0.0.1:1/x" });
    ownPools.push(pool);
    pool.on("error", () => undefined);
    return pool;
  };

  it("hears `down` with the error when a statement cannot reach the database", async () => {
    const health = recordingHealth();
    const failure = await sqlPool(unreachable(), health)
      .rows(`SELECT 1`)
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toMatchObject({ code: "ECONNREFUSED" });
    expect(health.down).toHaveBeenCalledTimes(1);
    expect(health.down).toHaveBeenCalledWith(failure);
    expect(health.up).not.toHaveBeenCalled();
  });

  it("hears `down` when a transaction cannot get a connection, and the work never runs", async () => {
    const health = recordingHealth();
    const work = vi.fn(async (_tx: Sql) => "ran");
    const failure = await sqlPool(unreachable(), health)
      .transaction(work, { timeoutMs: 60_000 })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toMatchObject({ code: "ECONNREFUSED" });
    expect(health.down).toHaveBeenCalledWith(failure);
    expect(work).not.toHaveBeenCalled();
    expect(health.up).not.toHaveBeenCalled();
  });

  it("hears `up` after each answered statement, and nothing for an ordinary failed one", async () => {
    const { pool } = ownPool();
    const health = recordingHealth();
    const watched = sqlPool(pool, health);
    expect(await watched.rows(`SELECT 1 AS "one"`)).toEqual([{ one: 1 }]);
    expect(health.up).toHaveBeenCalledTimes(1);
    await expect(watched.run(`SELECT * FROM "NoSuchTable"`)).rejects.toMatchObject({ code: "42P01" });
    expect(health.down).not.toHaveBeenCalled();
    expect(health.up).toHaveBeenCalledTimes(1);
    // In a transaction too (BEGIN travels with the first statement, COMMIT on its own).
    health.up.mockClear();
    await watched.transaction((tx) => tx.rows(`SELECT 1`), { timeoutMs: 60_000 });
    expect(health.up).toHaveBeenCalled();
    expect(health.down).not.toHaveBeenCalled();
  });
});

describe("insertRow and updateVersionedRow", () => {
  const seededAt = new Date(Date.UTC(2000, 0, 1, 0, 0, 0, 0));

  it("insertRow leaves undefined fields to the column default and writes null as NULL", async () => {
    const id = randomUUID();
    const row = await insertRow<ProbeRow>(sql, "SqlProbe", { id, label: undefined, note: null, createdAt: seededAt });
    expect(row).toMatchObject({ id, label: "label-default", note: null, version: 1 });
    expect(row.createdAt).toEqual(seededAt);
    expect(row.updatedAt).toBeInstanceOf(Date);
    const [stored] = await sql.rows<ProbeRow>(`SELECT * FROM "SqlProbe" WHERE "id" = $1`, [id]);
    expect(stored).toEqual(row);
    const [nullness] = await sql.rows<{ noteIsNull: boolean }>(
      `SELECT "note" IS NULL AS "noteIsNull" FROM "SqlProbe" WHERE "id" = $1`,
      [id],
    );
    expect(nullness?.noteIsNull).toBe(true);
  });

  it("updateVersionedRow writes only defined fields, moves the version on and stamps updatedAt", async () => {
    const id = randomUUID();
    await insertRow(sql, "SqlProbe", { id, label: "first", note: "kept", createdAt: seededAt, updatedAt: seededAt });

    const saved = await updateVersionedRow<ProbeRow>(
      sql,
      "SqlProbe",
      { id, version: 1 },
      {
        label: "second",
        note: undefined,
      },
    );
    expect(saved).toMatchObject({ id, label: "second", note: "kept", version: 2, createdAt: seededAt });
    expect(saved?.updatedAt).toBeInstanceOf(Date);
    expect(saved?.updatedAt.getTime()).not.toBe(seededAt.getTime());

    const cleared = await updateVersionedRow<ProbeRow>(sql, "SqlProbe", { id, version: 2 }, { note: null });
    expect(cleared).toMatchObject({ id, label: "second", note: null, version: 3 });
    const [stored] = await sql.rows<ProbeRow>(`SELECT * FROM "SqlProbe" WHERE "id" = $1`, [id]);
    expect(stored).toEqual(cleared);
  });

  it("updateVersionedRow at a stale version returns undefined and changes nothing", async () => {
    const id = randomUUID();
    await insertRow(sql, "SqlProbe", { id, label: "first", note: "kept", updatedAt: seededAt });
    const moved = await updateVersionedRow<ProbeRow>(sql, "SqlProbe", { id, version: 1 }, { label: "theirs" });
    expect(moved?.version).toBe(2);

    const stale = await updateVersionedRow<ProbeRow>(
      sql,
      "SqlProbe",
      { id, version: 1 },
      {
        label: "mine",
        note: null,
      },
    );
    expect(stale).toBeUndefined();
    const [stored] = await sql.rows<ProbeRow>(`SELECT * FROM "SqlProbe" WHERE "id" = $1`, [id]);
    expect(stored).toEqual(moved);

    const missing = await updateVersionedRow(sql, "SqlProbe", { id: randomUUID(), version: 1 }, { label: "nobody" });
    expect(missing).toBeUndefined();
  });
});

describe("a transaction's edges", () => {
  it("refuses a statement sent after the transaction ended, instead of running it on a lent connection", async () => {
    const { pool } = ownPool({ max: 1 });
    let late!: Sql;
    await sqlPool(pool).transaction(
      async (tx) => {
        late = tx;
        await tx.run(`SELECT 1`);
      },
      { timeoutMs: 60_000 },
    );
    await expect(late.run(`SELECT 1`)).rejects.toThrow("the transaction has already ended");
  });

  it("refuses a first statement that uses a parameter it was not given, as the server does", async () => {
    await expect(
      sqlPool(ownPool().pool).transaction((tx) => tx.rows(`SELECT $2::text AS "x"`, ["only one"]), {
        timeoutMs: 60_000,
      }),
    ).rejects.toThrow("uses $2 but has 1 parameters");
  });

  it("leaves a $n written inside a quoted string of the text alone", async () => {
    const [row] = await sqlPool(ownPool().pool).transaction(
      (tx) =>
        tx.rows<{ quoted: string; bound: string }>(`SELECT '$1 and ''$2''' AS "quoted", $1::text AS "bound"`, ["v"]),
      { timeoutMs: 60_000 },
    );
    expect(row).toEqual({ quoted: "$1 and '$2'", bound: "v" });
  });

  it("counts a transaction that ran past its time as the database being busy (retry), not as a bug", async () => {
    expect(isDatabaseUnavailable(new TransactionTimedOut(50))).toBe(true);
    expect(isDatabaseUnreachable(new TransactionTimedOut(50))).toBe(false);
  });
});

describe("createDatabase", () => {
  it("ends the shared pool on $disconnect even when Prisma itself never connected", async () => {
    const own = createDatabase(database.url);
    const [row] = await sqlPoolOf(own).rows<{ one: number }>(`SELECT 1 AS "one"`);
    expect(row).toEqual({ one: 1 });
    await own.$disconnect();
    await expect(sqlPoolOf(own).rows(`SELECT 1`)).rejects.toThrow();
  });
});

describe("writes sent later", () => {
  it("go before the next statement, in the same round trip, and that statement sees them", async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    const queries: string[] = [];
    const { pool } = ownPool({ max: 1 });
    pool.on("acquire", (client) => {
      const query = client.query.bind(client) as (config: unknown) => unknown;
      (client as unknown as { query: (config: unknown) => unknown }).query = (config) => {
        queries.push(typeof config === "string" ? config : (config as { text: string }).text);
        return query(config);
      };
    });
    const seen = await sqlPool(pool).transaction(
      async (tx) => {
        tx.later(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [first]);
        tx.later(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [second]);
        return tx.rows<{ id: string }>(`SELECT "id" FROM "SqlProbe" WHERE "id" = ANY($1::text[]) ORDER BY "id"`, [
          [first, second],
        ]);
      },
      { timeoutMs: 60_000 },
    );
    expect(seen.map((row) => row.id)).toEqual([first, second].sort());
    expect(await probeIds([first, second])).toEqual([first, second].sort());
    // BEGIN, both inserts and the read in one query; then the COMMIT.
    expect(queries).toHaveLength(2);
    expect(queries[0]).toMatch(/^BEGIN;\nINSERT .*;\nINSERT .*;\nSELECT /s);
    expect(queries[1]).toBe("COMMIT");
  });

  it("are committed with the COMMIT when no statement follows, and a failing one rolls everything back", async () => {
    const kept = randomUUID();
    await sqlPool(ownPool().pool).transaction(
      async (tx) => tx.later(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [kept]),
      { timeoutMs: 60_000 },
    );
    expect(await probeIds([kept])).toEqual([kept]);

    const lost = randomUUID();
    const outcome = sqlPool(ownPool().pool).transaction(
      async (tx) => {
        await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [lost]);
        // The same id again: the primary key refuses it when it is sent, with the COMMIT.
        tx.later(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [kept]);
      },
      { timeoutMs: 60_000 },
    );
    await expect(outcome).rejects.toMatchObject({ code: "23505" });
    expect(await probeIds([lost])).toEqual([]);
  });
});

describe("guards on writes sent later", () => {
  it("fails the transaction when a held row's update changed another number of rows, committing nothing", async () => {
    const kept = randomUUID();
    const outcome = sqlPool(ownPool().pool).transaction(
      async (tx) => {
        tx.later(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [kept]);
        tx.later(expectingRows(`UPDATE "SqlProbe" SET "id" = "id" WHERE "id" = $1`, 1), [randomUUID()]);
      },
      { timeoutMs: 60_000 },
    );
    await expect(outcome).rejects.toThrow("a row this transaction holds had moved: 0 of 1 rows changed");
    expect(await probeIds([kept])).toEqual([]);
  });

  it("passes when the held row's update changed exactly that row", async () => {
    const id = randomUUID();
    await sqlPool(ownPool().pool).transaction(
      async (tx) => {
        await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [id]);
        tx.later(expectingRows(`UPDATE "SqlProbe" SET "id" = "id" WHERE "id" = $1`, 1), [id]);
      },
      { timeoutMs: 60_000 },
    );
    expect(await probeIds([id])).toEqual([id]);
  });

  it("refuses text with a NUL as bad input (22021), never as a lost connection", async () => {
    const outcome = sqlPool(ownPool().pool).transaction(
      async (tx) => tx.later(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, ["a\0b"]),
      { timeoutMs: 60_000 },
    );
    await expect(outcome).rejects.toMatchObject({ code: "22021" });
    await expect(outcome).rejects.toSatisfy((error: unknown) => !isDatabaseUnavailable(error));
  });
});

describe("a refused value", () => {
  it("leaves BEGIN queued, so a work that carries on after it still runs inside its transaction", async () => {
    const id = randomUUID();
    const outcome = sqlPool(ownPool({ max: 1 }).pool).transaction(
      async (tx) => {
        await expect(tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, ["a\0b"])).rejects.toMatchObject({
          code: "22021",
        });
        await tx.run(`INSERT INTO "SqlProbe" ("id") VALUES ($1)`, [id]);
        throw new Error("rolled back on purpose");
      },
      { timeoutMs: 60_000 },
    );
    await expect(outcome).rejects.toThrow("rolled back on purpose");
    // Had BEGIN gone with the refused statement, the second insert would have committed on its own.
    expect(await probeIds([id])).toEqual([]);
  });
});
