import type { AuditInput } from "../domain/audit-event.js";
import type { Logger } from "../services/ports.js";

/**
 * Audit events of admission reviews, written after the answer and in batches: a burst of kubectl
 * calls costs one insert per batch, never a database round trip on the answer's path. Bounded: if
 * the database stays away and the queue fills up, new events are dropped and counted in the log.
 */

export interface AdmissionAudit {
  record(event: AuditInput, at: Date): void;
  /** Writes what is queued now (tests; shutdown). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface AdmissionAuditOptions {
  write(events: readonly { event: AuditInput; at: Date }[]): Promise<void>;
  logger: Logger;
  intervalMs?: number;
  batchSize?: number;
  maxQueued?: number;
}

export function createAdmissionAudit(options: AdmissionAuditOptions): AdmissionAudit {
  const { logger, intervalMs = 500, batchSize = 500, maxQueued = 50_000 } = options;
  let queue: { event: AuditInput; at: Date }[] = [];
  let dropped = 0;
  let failing = false;
  let writing: Promise<void> = Promise.resolve();

  const writeQueued = async () => {
    while (queue.length > 0) {
      const batch = queue.slice(0, batchSize);
      try {
        await options.write(batch);
      } catch (error) {
        // Kept for the next tick: the database may be back by then. One line per outage, not per tick.
        if (!failing)
          logger.warn(
            { err: error instanceof Error ? error.name : String(error), queued: queue.length },
            "admission audit events could not be written yet; keeping them in memory and retrying every tick",
          );
        failing = true;
        return;
      }
      if (failing) logger.info({ queued: queue.length }, "admission audit events are written again");
      failing = false;
      queue = queue.slice(batch.length);
    }
    if (dropped > 0) {
      logger.error({ dropped }, "admission audit events were dropped while the database was unreachable");
      dropped = 0;
    }
  };
  const flush = () => {
    writing = writing.then(writeQueued);
    return writing;
  };
  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();

  return {
    record(event, at) {
      if (queue.length >= maxQueued) {
        dropped += 1;
        return;
      }
      queue.push({ event, at });
      if (queue.length === batchSize) void flush();
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
