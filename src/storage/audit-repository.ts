import { type AuditEventRecord, CHAIN_START, type ChainTip } from "../domain/audit-chain.js";
import {
  type ChainEntry,
  type ChainVerdict,
  judgeUnchained,
  type UnchainedEvents,
  verifyAuditChain,
} from "../domain/audit-chain-verify.js";
import type { AuditInput } from "../domain/audit-event.js";
import type { AuditEvent, Prisma } from "./generated/prisma/client.js";
import type { Database } from "./prisma-client.js";
import type { ClosingStatement, Sql } from "./sql.js";

type Client = Database | Prisma.TransactionClient;

/**
 * Inserts one audit event (inside the caller's transaction when `sql` is one): content only, no read and no lock,
 * so audited transactions never wait for each other. The database stamps the transaction id
 * (`txid`), which tells the chainer when the event can be linked (src/storage/audit-chainer.ts).
 */
export async function appendAuditEvent(sql: Sql, event: AuditInput, at: Date = new Date()): Promise<void> {
  await appendAuditEvents(sql, [{ event, at }]);
}

/**
 * Inserts a transaction's audit events in one statement, in the order they happened (seq follows
 * the array). Raw SQL over one JSON document: Prisma's createMany costs about ten times the CPU
 * for the hundred events of a batch of revokes.
 */
export async function appendAuditEvents(sql: Sql, events: readonly { event: AuditInput; at: Date }[]): Promise<void> {
  const statement = auditInsert(events);
  if (statement) await sql.run(statement.text, statement.values);
}

/** The statement appendAuditEvents sends (none for no events), e.g. to close a transaction with. */
export function auditInsert(events: readonly { event: AuditInput; at: Date }[]): ClosingStatement | undefined {
  if (events.length === 0) return undefined;
  const rows = events.map(({ event, at }) => ({
    at,
    type: event.type,
    actorId: event.actorId ?? null,
    requestId: event.requestId ?? null,
    grantId: event.grantId ?? null,
    data: event.data ?? {},
  }));
  return {
    text: `INSERT INTO "AuditEvent" ("at", "type", "actorId", "requestId", "grantId", "data")
     SELECT (e.v->>'at')::timestamp(3), e.v->>'type', e.v->>'actorId', e.v->>'requestId', e.v->>'grantId', e.v->'data'
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(v, n)
     ORDER BY e.n`,
    values: [JSON.stringify(rows)],
  };
}

/** An event's identity and hashed content, without the bookkeeping columns. */
export function toAuditRecord({ seq, at, type, actorId, requestId, grantId, data }: AuditEvent): AuditEventRecord {
  return { seq, at, type, actorId, requestId, grantId, data };
}

/** The newest link, or the start of an empty chain. */
export async function readChainTip(client: Client): Promise<ChainTip> {
  const last = await client.auditChainLink.findFirst({ orderBy: { position: "desc" } });
  return last ?? CHAIN_START;
}

/** Streams the chain in position order, after position `after`, with each link's event (null if the row is gone), a page at a time. */
export async function* readAuditChain(db: Database, pageSize = 1000, after = 0n): AsyncGenerator<ChainEntry> {
  for (;;) {
    const page = await readChainPage(db, after, pageSize);
    yield* page;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.position;
  }
}

/** Up to `limit` links after position `after`, in order, each with its event (null if the row is gone). */
export async function readChainPage(db: Database, after: bigint, limit: number): Promise<ChainEntry[]> {
  const links = await db.auditChainLink.findMany({
    where: { position: { gt: after } },
    orderBy: { position: "asc" },
    take: limit,
  });
  // Fetched apart rather than joined: a missing event must show up as null, not as an error.
  const events = await db.auditEvent.findMany({ where: { seq: { in: links.map((link) => link.eventSeq) } } });
  const bySeq = new Map(events.map((row) => [row.seq, toAuditRecord(row)]));
  return links.map(({ position, eventSeq, prevHash, hash }) => ({
    position,
    eventSeq,
    prevHash,
    hash,
    event: bySeq.get(eventSeq) ?? null,
  }));
}

/**
 * Streams, in `seq` order, the events outside the chain's first `chainedUpTo` positions: those
 * without a link, and those the chainer linked after a reader walked that far.
 */
export async function* readUnchainedEvents(
  db: Database,
  chainedUpTo: bigint,
  pageSize = 1000,
): AsyncGenerator<AuditEventRecord> {
  let after = -1n;
  for (;;) {
    const page = await db.auditEvent.findMany({
      where: { seq: { gt: after }, OR: [{ link: null }, { link: { position: { gt: chainedUpTo } } }] },
      orderBy: { seq: "asc" },
      take: pageSize,
    });
    for (const row of page) yield toAuditRecord(row);
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.seq;
  }
}

async function summariseUnchained(db: Database, watermark: bigint): Promise<UnchainedEvents> {
  const [strayed, waiting] = await Promise.all([
    db.auditEvent.findFirst({
      where: { txid: { lt: watermark }, link: null },
      orderBy: { seq: "asc" },
      select: { seq: true },
    }),
    db.auditEvent.count({ where: { txid: { gte: watermark }, link: null } }),
  ]);
  return { strayedSeq: strayed?.seq ?? null, waiting };
}

/**
 * Verifies the stored chain, then the events without a link. The tip is read after the walk: a
 * link the chainer adds meanwhile only raises the watermark over events it has just linked.
 */
export async function verifyStoredAuditChain(
  db: Database,
  options: { knownHash?: string } = {},
): Promise<ChainVerdict> {
  const verdict = await verifyAuditChain(readAuditChain(db), options);
  if (!verdict.ok) return verdict;
  const tip = await readChainTip(db);
  return judgeUnchained(verdict, await summariseUnchained(db, tip.watermark));
}
