import type { ServiceDeps } from "../services/deps.js";
import { purgeEndedRecords } from "../services/purge-ended-records.js";
import { holdUntilNextRun, startOwnPace } from "./lease-hold.js";

/**
 * SESAME_RETENTION: once an hour, in one worker process at a time and once in the whole install
 * (a named lease held for the rest of the hour, like the sweeper's), deletes requests and grants that ended longer ago than the retention. Without it,
 * nothing is ever deleted. The audit log is never purged.
 */
export interface RetentionTimer {
  /** Purges now (or joins the purge under way); undefined when another process holds the lease or it failed. */
  runOnce(): Promise<number | undefined>;
  stop(): Promise<void>;
}

const LEASE_NAME = "retention";
const LEASE_SECONDS = 300;
export const RETENTION_INTERVAL_MS = 3_600_000;
/** How often a process looks whether the hour is over (one upsert of the lease row when it does not hold it). */
export const RETENTION_TRY_EVERY_MS = 300_000;

export function startRetentionTimer(deps: ServiceDeps, retentionSeconds: number): RetentionTimer {
  let running: Promise<number | undefined> | undefined;
  let stopped = false;
  const take = () => deps.store.takeNamedLease(LEASE_NAME, deps.instanceId, LEASE_SECONDS);
  const purgeUnderLease = async (): Promise<number | undefined> => {
    try {
      if (!(await take())) return undefined;
      const started = performance.now();
      // Not before an hour from now in this process, whatever the outcome.
      pace.ran(started);
      const purged = await purgeEndedRecords(deps, retentionSeconds, async () => {
        if (stopped) throw new Error("shutting down");
        if (!(await take())) throw new Error("another process took the retention lease over");
      }).catch(async (error: unknown) => {
        await deps.store.releaseNamedLease(LEASE_NAME, deps.instanceId).catch(() => undefined);
        throw error;
      });
      if (purged > 0) deps.logger.info({ purged, retentionSeconds }, "deleted requests and grants past retention");
      // Once an hour in the whole install, not once an hour in each process.
      await holdUntilNextRun(
        deps.store,
        { name: LEASE_NAME, owner: deps.instanceId },
        { intervalSeconds: RETENTION_INTERVAL_MS / 1000, elapsedMs: performance.now() - started },
      ).catch(() => undefined);
      return purged;
    } catch (error) {
      // The next run, an hour later, starts afresh: each batch was its own transaction.
      deps.logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        "purge of records past retention stopped; the next one starts afresh",
      );
      return undefined;
    }
  };
  const runOnce = () => {
    running ??= purgeUnderLease().finally(() => {
      running = undefined;
    });
    return running;
  };
  // This process's own next purge waits for its hour to end; the lease keeps the others waiting.
  const pace = startOwnPace(() => void runOnce(), {
    intervalMs: RETENTION_INTERVAL_MS,
    lookEveryMs: RETENTION_TRY_EVERY_MS,
  });
  void runOnce();
  return {
    runOnce,
    async stop() {
      stopped = true;
      pace.stop();
      await running;
      // The hour this process held is handed on: another process purges at its next tick.
      await deps.store.releaseNamedLease(LEASE_NAME, deps.instanceId).catch(() => undefined);
    },
  };
}
