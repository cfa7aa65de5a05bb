import { z } from "zod";
import { type AuditLink, linkEvents } from "../domain/audit-chain.js";
import { readChainTip, toAuditRecord } from "./audit-repository.js";
import type { Prisma } from "./generated/prisma/client.js";
import type { Database } from "./prisma-client.js";

/**
 * Links committed audit events into the chain (AuditChainLink), one chainer at a time. Business
 * transactions never take this lock: they only insert events, stamped with their transaction id.
 *
 * An event may be linked once every transaction that could still insert an event before it has
 * finished: PostgreSQL's snapshot `xmin` is the oldest transaction id still running, so the events
 * with a txid below it are complete and final, whatever their `seq` (taken at insert, not at
 * commit) says. Each link records the xmin it reached as its watermark.
 */

// Any constant works; it only has to differ from the other advisory locks Sesame takes.
const CHAINER_LOCK = 0x5e5a_a0d2n;
/** Events linked per transaction, so a backlog is worked off in short transactions. */
const PAGE_SIZE = 5_000;

const LockRow = z.object({ locked: z.boolean() });
const XminRow = z.object({ xmin: z.string().regex(/^\d+$/).transform(BigInt) });

async function takeChainerLock(tx: Prisma.TransactionClient, wait: boolean): Promise<boolean> {
  if (wait) {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHAINER_LOCK})`;
    return true;
  }
  const rows = await tx.$queryRaw`SELECT pg_try_advisory_xact_lock(${CHAINER_LOCK}) AS locked`;
  return z.array(LockRow).parse(rows)[0]?.locked === true;
}

/** The oldest transaction id still running anywhere in the cluster (or the next one, if none is). */
async function oldestRunningTransaction(tx: Prisma.TransactionClient): Promise<bigint> {
  const rows = await tx.$queryRaw`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`;
  return z.array(XminRow).length(1).parse(rows)[0]!.xmin;
}

/**
 * The txids of events that are final but may lack a link. Below the watermark everything is
 * linked already. An xmin below the watermark means the transaction counter went backwards (the
 * database was restored into another cluster): the old cluster's events above the watermark are
 * final too, and the new cluster's are final below xmin.
 */
function finalTxids(watermark: bigint, xmin: bigint): Prisma.AuditEventWhereInput {
  if (xmin >= watermark) return { txid: { gte: watermark, lt: xmin } };
  return { OR: [{ txid: { lt: xmin } }, { txid: { gte: watermark } }] };
}

/**
 * Inserts links in one statement over one JSON document. Prisma's createMany is never served from
 * its query plan cache, and compiling a plan for thousands of rows cost a worker about a third of
 * its CPU during a burst of revokes. Positions and sequence numbers travel as text (exact bigints).
 */
async function insertLinks(tx: Prisma.TransactionClient, links: readonly AuditLink[]): Promise<void> {
  if (links.length === 0) return;
  const rows = links.map((link) => ({
    position: String(link.position),
    eventSeq: String(link.eventSeq),
    prevHash: link.prevHash,
    hash: link.hash,
    watermark: String(link.watermark),
  }));
  await tx.$executeRaw`
    INSERT INTO "AuditChainLink" ("position", "eventSeq", "prevHash", "hash", "watermark")
    SELECT (l->>'position')::bigint, (l->>'eventSeq')::bigint, l->>'prevHash', l->>'hash', (l->>'watermark')::bigint
    FROM jsonb_array_elements(${JSON.stringify(rows)}::jsonb) AS l`;
}

/** One short transaction: links up to PAGE_SIZE events; `more` when a full page may have left some. */
async function chainStep(db: Database, wait: boolean): Promise<{ linked: number; more: boolean }> {
  return db.$transaction(
    async (tx) => {
      if (!(await takeChainerLock(tx, wait))) return { linked: 0, more: false };
      const tip = await readChainTip(tx);
      // Taken before the events are read, so every event the read can miss has a txid >= xmin.
      const xmin = await oldestRunningTransaction(tx);
      const events = await tx.auditEvent.findMany({
        where: { ...finalTxids(tip.watermark, xmin), link: null },
        orderBy: { seq: "asc" },
        take: PAGE_SIZE,
      });
      const more = events.length === PAGE_SIZE;
      // A partial pass must not promise that everything below xmin is linked.
      const links = linkEvents(tip, events.map(toAuditRecord), more ? tip.watermark : xmin);
      await insertLinks(tx, links);
      return { linked: links.length, more };
    },
    // Read committed whatever the server's default: each statement must see the links a chainer
    // committed while this one waited for the lock.
    { timeout: 60_000, maxWait: 10_000, isolationLevel: "ReadCommitted" },
  );
}

/**
 * Links every event that is final now and returns how many it linked. With `wait` it queues
 * behind a chainer already running (the CLI wants everything committed before it reads);
 * without, it returns 0 at once when another process is chaining.
 */
export async function chainAuditEvents(db: Database, options: { wait?: boolean } = {}): Promise<number> {
  let linked = 0;
  for (;;) {
    const step = await chainStep(db, options.wait === true);
    linked += step.linked;
    if (!step.more) return linked;
  }
}
