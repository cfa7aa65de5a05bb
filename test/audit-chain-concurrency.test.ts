import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainAuditEvents } from "../src/storage/audit-chainer.js";
import { appendAuditEvent, verifyStoredAuditChain } from "../src/storage/audit-repository.js";
import { createDatabase, type Database, sqlPoolOf } from "../src/storage/prisma-client.js";
import type { Sql } from "../src/storage/sql.js";
import { chainEverything } from "./helpers/audit-chain.js";
import { createMigratedDatabase } from "./helpers/database.js";
import { waitFor } from "./helpers/wait.js";

/**
 * Audited transactions run side by side: appending an event takes no lock, and the chainer links
 * events once every transaction that could still add an older one has ended, whatever order
 * their `seq` numbers (taken at insert) and their commits come in.
 */

const database = await createMigratedDatabase("audit_chain_concurrency");
let db: Database;
beforeAll(() => {
  db = createDatabase(database.url);
});
afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

class RolledBack extends Error {}

/** An interactive transaction held open until the test ends it. */
async function openTransaction(): Promise<{
  tx: Sql;
  end(outcome: "commit" | "rollback"): Promise<void>;
}> {
  let finish!: (outcome: "commit" | "rollback") => void;
  const finished = new Promise<"commit" | "rollback">((resolve) => (finish = resolve));
  let opened!: (tx: Sql) => void;
  const open = new Promise<Sql>((resolve) => (opened = resolve));
  const done = sqlPoolOf(db)
    .transaction(
      async (tx) => {
        opened(tx);
        if ((await finished) === "rollback") throw new RolledBack();
      },
      { timeoutMs: 120_000 },
    )
    .catch((error: unknown) => {
      if (!(error instanceof RolledBack)) throw error;
    });
  const tx = await Promise.race([open, done.then(() => Promise.reject(new Error("transaction ended early")))]);
  return {
    tx,
    async end(outcome) {
      finish(outcome);
      await done;
    },
  };
}

/**
 * Resolves with `work`, or rejects as soon as any session of this database waits for a lock:
 * a lock on the append path would make `work` wait for the transaction the test holds open.
 */
async function withoutLockWaits<T>(work: Promise<T>): Promise<T> {
  const watcher = new pg.Client({ connectionString: database.url });
  await watcher.connect();
  let settled = false;
  const watch = (async () => {
    while (!settled) {
      const { rows } = await watcher.query(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (rows.length > 0) throw new Error("an audited transaction waits for a lock held by another one");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  try {
    return await Promise.race([work, watch.then(() => work)]);
  } finally {
    settled = true;
    await watch.catch(() => undefined);
    await watcher.end();
  }
}

async function linkedSeqs(): Promise<bigint[]> {
  const links = await db.auditChainLink.findMany({ orderBy: { position: "asc" }, select: { eventSeq: true } });
  return links.map((link) => link.eventSeq);
}

async function seqOf(type: string): Promise<bigint> {
  return (await db.auditEvent.findFirstOrThrow({ where: { type }, select: { seq: true } })).seq;
}

describe("audited transactions and the chainer", () => {
  it("a transaction appending an event commits while another that appended one is still open", async () => {
    const a = await openTransaction();
    await appendAuditEvent(a.tx, { type: "test.a-open" });

    await withoutLockWaits(appendAuditEvent(sqlPoolOf(db), { type: "test.b-commits" }));
    expect(await db.auditEvent.count({ where: { type: "test.a-open" } })).toBe(0);
    // B's event is newer than A's transaction: it waits for A, and says so instead of failing.
    await chainAuditEvents(db, { wait: true });
    expect(await verifyStoredAuditChain(db)).toMatchObject({ ok: true, waiting: 1 });

    await a.end("commit");
    await chainEverything(db);
    const [seqA, seqB] = [await seqOf("test.a-open"), await seqOf("test.b-commits")];
    expect(await linkedSeqs()).toEqual(expect.arrayContaining([seqA, seqB]));
    expect(await verifyStoredAuditChain(db)).toMatchObject({ ok: true, checked: 2, waiting: 0 });
  });

  it("a rolled-back event leaves no link and no failure", async () => {
    const before = await linkedSeqs();
    const rollback = await openTransaction();
    await appendAuditEvent(rollback.tx, { type: "test.rolled-back" });
    await rollback.end("rollback");
    await appendAuditEvent(sqlPoolOf(db), { type: "test.after-rollback" });

    await chainEverything(db);
    expect(await linkedSeqs()).toEqual([...before, await seqOf("test.after-rollback")]);
    expect(await db.auditEvent.count({ where: { type: "test.rolled-back" } })).toBe(0);
    expect(await verifyStoredAuditChain(db)).toMatchObject({ ok: true, checked: before.length + 1, waiting: 0 });
  });

  it("an event committed with a lower seq after a higher seq was chained is chained by a later pass", async () => {
    // B got its transaction id first (a business transaction writes its rows before its audit
    // event), then A inserted its event, then B: A's seq is lower, but only B's can be chained.
    const b = await openTransaction();
    await b.tx.rows("SELECT pg_current_xact_id()::text");
    const a = await openTransaction();
    await appendAuditEvent(a.tx, { type: "test.lower-seq" });
    await appendAuditEvent(b.tx, { type: "test.higher-seq" });
    await b.end("commit");

    const higher = await seqOf("test.higher-seq");
    await waitFor(async () => {
      await chainAuditEvents(db);
      return (await linkedSeqs()).includes(higher);
    }, "the higher seq to be chained while the lower one is still uncommitted");

    await a.end("commit");
    const lower = await seqOf("test.lower-seq");
    expect(lower).toBeLessThan(higher);
    await chainEverything(db);
    const chained = await linkedSeqs();
    expect(chained.slice(-2)).toEqual([higher, lower]);
    expect(await verifyStoredAuditChain(db)).toMatchObject({ ok: true, checked: chained.length, waiting: 0 });
  });

  it("chainers running at once link every event exactly once", async () => {
    for (let i = 0; i < 20; i += 1) await appendAuditEvent(sqlPoolOf(db), { type: `test.burst-${i}` });
    await Promise.all([chainAuditEvents(db), chainAuditEvents(db), chainAuditEvents(db, { wait: true })]);
    await chainEverything(db);
    const chained = await linkedSeqs();
    expect(new Set(chained).size).toBe(chained.length);
    expect(chained.length).toBe(await db.auditEvent.count());
    expect(await verifyStoredAuditChain(db)).toMatchObject({ ok: true, checked: chained.length, waiting: 0 });
  });

  it("goes on chaining when transaction ids go backwards (the database restored into another cluster)", async () => {
    // What a restore into a cluster whose transaction counter is lower looks like to the chainer.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query(`SET session_replication_role = replica`);
      await admin.query(
        `UPDATE "AuditChainLink" SET watermark = 9000000000000000 WHERE position = (SELECT max(position) FROM "AuditChainLink")`,
      );
    } finally {
      await admin.end();
    }
    await appendAuditEvent(sqlPoolOf(db), { type: "test.after-restore" });

    await chainEverything(db);
    expect((await linkedSeqs()).at(-1)).toBe(await seqOf("test.after-restore"));
    const tip = await db.auditChainLink.findFirstOrThrow({ orderBy: { position: "desc" } });
    expect(tip.watermark).toBeLessThan(9_000_000_000_000_000n);
    expect(await verifyStoredAuditChain(db)).toMatchObject({ ok: true, waiting: 0 });
  });
});
