import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { ServiceDeps } from "../services/deps.js";
import type { InboundEventStore } from "../services/inbound-events.js";
import type { OutageLog } from "../storage/outage-log.js";
import { createWorkerRedis } from "./queues.js";
import { onWorkerError } from "./redis-outages.js";

/**
 * Inbound events are answered as soon as they are stored; the work runs in a job that carries
 * only the stored event's id. When Redis cannot take the job, the work runs inline instead, and a
 * timer in every worker re-drives events whose job was lost (the row is the truth, not Redis).
 */

const EVENT_QUEUE = "events";
const REDRIVE_EVERY_MS = 60_000;
const REDRIVE_AFTER_MS = 60_000;
const ADD_TIMEOUT_MS = 2_000;

export interface EventJobData {
  eventId: string;
}

export interface EventQueue {
  /** Queues the event's work; runs it inline when Redis cannot take the job. */
  dispatch(eventId: string): Promise<"queued" | "processed">;
  close(): Promise<void>;
}

/** Does a stored event's work (processInboundEvent with its ports). */
export type ProcessEvent = (eventId: string) => Promise<void>;

export function createEventQueue(
  deps: ServiceDeps,
  process: ProcessEvent,
  connection: Redis,
  prefix: string,
): EventQueue {
  const queue = new Queue<EventJobData>(EVENT_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 6,
      backoff: { type: "exponential", delay: 2_000 },
      removeOnComplete: true,
      removeOnFail: 1000,
    },
  });
  queue.on("error", () => undefined);
  return {
    async dispatch(eventId) {
      try {
        // Not connected: do not wait for Redis (BullMQ would); a slow Redis gets a short bound. If
        // the job lands after all, it finds the event already claimed and does nothing.
        if (connection.status !== "ready") throw new Error(`Redis connection is ${connection.status}`);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Redis did not answer within ${ADD_TIMEOUT_MS} ms`)),
            ADD_TIMEOUT_MS,
          );
        });
        await Promise.race([queue.add("event", { eventId }, { jobId: `event-${eventId}` }), timeout]).finally(() =>
          clearTimeout(timer),
        );
        return "queued";
      } catch (error) {
        deps.logger.warn(
          { eventId, err: error instanceof Error ? error.message : String(error) },
          "event job could not be queued (Redis unavailable?): processing it inline",
        );
        await process(eventId);
        return "processed";
      }
    },
    close: () => queue.close(),
  };
}

export function startEventWorker(
  deps: ServiceDeps,
  events: InboundEventStore,
  process: ProcessEvent,
  options: { redisUrl: string; prefix: string; redisHealth: OutageLog },
): { close(): Promise<void> } {
  const connection = createWorkerRedis(options.redisUrl, options.redisHealth);
  const worker = new Worker<EventJobData>(EVENT_QUEUE, async (job) => process(job.data.eventId), {
    connection,
    prefix: options.prefix,
    concurrency: 5,
  });
  worker.on("failed", (job, error) =>
    deps.logger.warn({ queue: EVENT_QUEUE, jobId: job?.id, error: error.message }, "job attempt failed"),
  );
  worker.on("error", onWorkerError(EVENT_QUEUE, deps.logger, options.redisHealth));
  const redrive = async () => {
    try {
      const stale = await events.stale(new Date(deps.now().getTime() - REDRIVE_AFTER_MS), 100);
      for (const id of stale) await process(id);
    } catch (error) {
      deps.logger.warn({ err: error instanceof Error ? error.message : String(error) }, "event re-drive failed");
    }
  };
  const timer = setInterval(() => void redrive(), REDRIVE_EVERY_MS);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await worker.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
