import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { computeAuditHash, GENESIS_HASH } from "../src/domain/audit-chain.js";
import { chainAuditEvents } from "../src/storage/audit-chainer.js";
import { appendAuditEvent, verifyStoredAuditChain } from "../src/storage/audit-repository.js";
import { DEFAULT_MIGRATIONS_DIR, migrate } from "../src/storage/migrator.js";
import { createDatabase, sqlPoolOf } from "../src/storage/prisma-client.js";
import { chainEverything } from "./helpers/audit-chain.js";
import { createTestDatabase } from "./helpers/database.js";

/**
 * A log written before AuditChainLink existed (each row chained to the one before it) keeps its
 * hashes through the migration: its links are copied in seq order, so a head hash recorded
 * earlier still verifies, and new events chain on after it.
 */

const MIGRATION = "20261123000000_audit_chain_links";
const database = await createTestDatabase("audit_chain_migration");
const dir = await mkdtemp(join(tmpdir(), "sesame-migrations-"));
afterAll(async () => {
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

const LEGACY = [
  { type: "request.submitted", actorId: "alice", requestId: "req-1", grantId: null, data: { reason: "incident" } },
  { type: "request.approved", actorId: "bob", requestId: "req-1", grantId: null, data: { step: 0 } },
  { type: "grant.activated", actorId: null, requestId: "req-1", grantId: "grant-1", data: { target: { role: "ro" } } },
];

/** Applies the migrations older than the audit chain's, then writes rows the way the old code did. */
async function legacyLog(): Promise<string> {
  for (const name of await readdir(DEFAULT_MIGRATIONS_DIR)) {
    if (name < MIGRATION) await cp(join(DEFAULT_MIGRATIONS_DIR, name), join(dir, name), { recursive: true });
  }
  await migrate(database.url, dir);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    let prevHash = GENESIS_HASH;
    for (const [i, event] of LEGACY.entries()) {
      const at = new Date(Date.UTC(2026, 2, 1, 12, i));
      const hash = computeAuditHash(prevHash, { ...event, at });
      await client.query(
        `INSERT INTO "AuditEvent" (at, type, "actorId", "requestId", "grantId", data, "prevHash", hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [at, event.type, event.actorId, event.requestId, event.grantId, event.data, prevHash, hash],
      );
      prevHash = hash;
    }
    return prevHash;
  } finally {
    await client.end();
  }
}

describe(`migration ${MIGRATION}`, () => {
  it("links the existing rows with their own hashes, and new events chain on after them", async () => {
    const head = await legacyLog();
    expect((await migrate(database.url)).applied).toContain(MIGRATION);

    const db = createDatabase(database.url);
    try {
      const links = await db.auditChainLink.findMany({ orderBy: { position: "asc" } });
      const events = await db.auditEvent.findMany({ orderBy: { seq: "asc" } });
      expect(links.map((link) => [link.position, link.eventSeq, link.hash, link.watermark])).toEqual(
        events.map((event, i) => [BigInt(i + 1), event.seq, event.hash, 1n]),
      );
      expect(events.map((event) => event.txid)).toEqual([0n, 0n, 0n]);
      expect(await chainAuditEvents(db, { wait: true })).toBe(0);
      expect(await verifyStoredAuditChain(db, { knownHash: head })).toEqual({
        ok: true,
        checked: LEGACY.length,
        lastHash: head,
        waiting: 0,
      });

      await appendAuditEvent(sqlPoolOf(db), { type: "grant.revoked", grantId: "grant-1" });
      const added = await db.auditEvent.findFirstOrThrow({ where: { type: "grant.revoked" } });
      expect(added).toMatchObject({ prevHash: null, hash: null });
      expect(added.txid).toBeGreaterThan(0n);
      await chainEverything(db);
      const verdict = await verifyStoredAuditChain(db, { knownHash: head });
      expect(verdict).toMatchObject({ ok: true, checked: LEGACY.length + 1, waiting: 0 });
      expect(await db.auditChainLink.findUnique({ where: { eventSeq: added.seq } })).toMatchObject({
        position: 4n,
        prevHash: head,
      });
    } finally {
      await db.$disconnect();
    }
  });
});
