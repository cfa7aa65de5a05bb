import type { ServiceDeps } from "./deps.js";

/** Requests deleted per transaction: short transactions, whatever the backlog. */
export const PURGE_BATCH = 1000;

/**
 * Deletes the requests and grants that ended for good more than `retentionSeconds` ago (see
 * recordRetention for what counts as ended), a batch per transaction, each batch recorded in the
 * audit log, which itself keeps every event of the deleted records. `checkpoint` runs between
 * batches (the caller renews its lease there, or stops the purge by throwing).
 */
export async function purgeEndedRecords(
  deps: ServiceDeps,
  retentionSeconds: number,
  checkpoint: () => Promise<void>,
): Promise<number> {
  const endedBefore = new Date(deps.now().getTime() - retentionSeconds * 1000);
  let purged = 0;
  for (;;) {
    const count = await deps.store.transaction(async (uow) => {
      const deleted = await uow.deleteEndedRecords(endedBefore, PURGE_BATCH);
      if (deleted > 0)
        await uow.appendAudit({
          type: "records.purged",
          data: { requests: deleted, endedBefore: endedBefore.toISOString(), retentionSeconds },
        });
      return deleted;
    });
    purged += count;
    if (count < PURGE_BATCH) break;
    await checkpoint();
  }
  // Claims only stop a retried chat job from sending twice; nothing refers to them.
  while (
    (await deps.store.transaction((uow) => uow.deleteChatDeliveryClaims(endedBefore, PURGE_BATCH))) === PURGE_BATCH
  )
    await checkpoint();
  return purged;
}
