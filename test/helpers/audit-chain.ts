import type { ChainVerdict } from "../../src/domain/audit-chain-verify.js";
import { chainAuditEvents } from "../../src/storage/audit-chainer.js";
import { verifyStoredAuditChain } from "../../src/storage/audit-repository.js";
import type { Database } from "../../src/storage/prisma-client.js";
import { waitFor } from "./wait.js";

/*
 * The chainer links an event once every older transaction in the PostgreSQL cluster has ended.
 * Test files share one cluster, so another file's open transaction can hold events back for a
 * moment: these helpers chain again until the condition holds rather than chaining once.
 */

/** Chains until no committed event is left without a link (for databases nothing else writes to). */
export async function chainEverything(db: Database): Promise<void> {
  await waitFor(async () => {
    await chainAuditEvents(db, { wait: true });
    return (await db.auditEvent.count({ where: { link: null } })) === 0;
  }, "every committed audit event to be chained");
}

/** Chains and verifies until the chain is broken or holds at least `atLeast` events; returns the verdict. */
export async function verifyOnceChained(db: Database, atLeast: number): Promise<ChainVerdict> {
  let verdict: ChainVerdict | undefined;
  await waitFor(async () => {
    await chainAuditEvents(db, { wait: true });
    verdict = await verifyStoredAuditChain(db);
    return !verdict.ok || verdict.checked >= atLeast;
  }, `at least ${atLeast} audit events to be chained`);
  return verdict!;
}
