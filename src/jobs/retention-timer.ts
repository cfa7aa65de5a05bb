import type { ServiceDeps } from "../services/deps.js";
import { purgeEndedRecords } from "../services/purge-ended-records.js";

/**
 * SESAME_RETENTION: once an hour, in one worker process at a time (a named lease, like the
 * sweeper), deletes requests and grants that ended longer ago than the retention. Without it,
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

export function startRetentionTimer(deps: ServiceDeps, retentionSeconds: number): RetentionTimer {
  let running: Promise<number | undefined> | undefined;
  let stopped = false;
  const take = () => deps.store.takeNamedLease(LEASE_NAME, deps.instanceId, LEASE_SECONDS);
  const purgeUnderLease = async (): Promise<number | undefined> => {
    try {
      if (!(await take())) return undefined;
      try {
        const purged = await purgeEndedRecords(deps, retentionSeconds, async () => {
          if (stopped) throw new Error("shutting down");
          if (!(await take())) throw new Error("another process took the retention lease over");
        });
        if (purged > 0) deps.logger.info({ purged, retentionSeconds }, "deleted requests and grants past retention");
        return purged;
      } finally {
        await deps.store.releaseNamedLease(LEASE_NAME, deps.instanceId).catch(() => undefined);
      }
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
  const timer = setInterval(() => void runOnce(), RETENTION_INTERVAL_MS);
  timer.unref();
  void runOnce();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
