import { type ChainedAuditRow, computeAuditHash, GENESIS_HASH } from "../domain/audit-chain.js";
import type { AuditInput } from "../services/ports.js";
import type { Prisma } from "./generated/prisma/client.js";
import type { Database } from "./prisma-client.js";
import { asJson } from "./row-mappers.js";

// Any constant works; it only has to differ from the other advisory locks Sesame takes.
const AUDIT_CHAIN_LOCK = 0x5e5a_a0d1;

/**
 * Appends one chained audit row inside the caller's transaction. The advisory lock serialises
 * writers until commit, so `seq` order and chain order are the same.
 */
export async function appendAuditEvent(
  tx: Prisma.TransactionClient,
  event: AuditInput,
  at: Date = new Date(),
): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`;
  const last = await tx.auditEvent.findFirst({ orderBy: { seq: "desc" }, select: { hash: true } });
  const prevHash = last?.hash ?? GENESIS_HASH;
  const content = {
    at,
    type: event.type,
    actorId: event.actorId ?? null,
    requestId: event.requestId ?? null,
    grantId: event.grantId ?? null,
    data: JSON.parse(JSON.stringify(event.data ?? {})) as unknown,
  };
  await tx.auditEvent.create({
    data: { ...content, data: asJson(content.data), prevHash, hash: computeAuditHash(prevHash, content) },
  });
}

/** Streams the whole chain in `seq` order, a page at a time. */
export async function* readAuditChain(db: Database, pageSize = 1000): AsyncGenerator<ChainedAuditRow> {
  let after: bigint | undefined;
  for (;;) {
    const page = await db.auditEvent.findMany({
      ...(after === undefined ? {} : { where: { seq: { gt: after } } }),
      orderBy: { seq: "asc" },
      take: pageSize,
    });
    for (const row of page) yield row;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.seq;
  }
}
