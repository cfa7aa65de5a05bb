import { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { type ChatJob, ChatJobSchema, type PlannedJob } from "../chat/core/chat-deliveries.js";
import type { ChatDispatcher } from "../chat/core/chat-dispatcher.js";
import type { Logger, Metrics } from "../services/ports.js";
import type { OutageLog } from "../storage/outage-log.js";
import { createWorkerRedis } from "./queues.js";
import { onWorkerError } from "./redis-outages.js";

/**
 * Chat messages go through their own queue: a burst of notifications is paced by the adapters
 * (Slack: about one message per second per channel, Retry-After on 429), a failed message is
 * retried with backoff, and nothing here can roll back the decision that caused it.
 */

const CHAT_QUEUE = "chat";

export interface ChatQueue {
  queue: Queue<ChatJob>;
  enqueue(jobs: PlannedJob[]): Promise<void>;
  close(): Promise<void>;
}

/** Uses the process's producer connection (see `createQueues`); closing the queue leaves it to its owner. */
export function createChatQueue(
  connection: Redis,
  prefix: string,
  retry = { attempts: 8, backoffMs: 3_000 },
): ChatQueue {
  const queue = new Queue<ChatJob>(CHAT_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: retry.attempts,
      backoff: { type: "exponential", delay: retry.backoffMs },
      // Completed ids are kept a day so a repeated notification is recognised and not sent twice.
      removeOnComplete: { age: 86_400 },
      removeOnFail: { age: 7 * 86_400 },
    },
  });
  queue.on("error", () => undefined);
  return {
    queue,
    async enqueue(jobs) {
      if (jobs.length === 0) return;
      await queue.addBulk(
        jobs.map(({ id, job, runAt }) => ({
          name: job.kind,
          data: job,
          opts: { jobId: id, ...(runAt ? { delay: Math.max(0, runAt.getTime() - Date.now()) } : {}) },
        })),
      );
    },
    close: () => queue.close(),
  };
}

export function startChatWorker(
  dispatcher: ChatDispatcher,
  logger: Logger,
  options: {
    redisUrl: string;
    prefix: string;
    concurrency: number;
    redisHealth: OutageLog;
    metrics?: Pick<Metrics, "chatDelivery">;
  },
): { close(): Promise<void> } {
  const connection = createWorkerRedis(options.redisUrl, options.redisHealth);
  const worker = new Worker<ChatJob>(
    CHAT_QUEUE,
    async (job) => {
      const parsed = ChatJobSchema.safeParse(job.data);
      if (!parsed.success) {
        logger.error({ jobId: job.id }, "chat job with an unknown shape dropped");
        return;
      }
      await dispatcher.run(parsed.data);
    },
    { connection, prefix: options.prefix, concurrency: options.concurrency },
  );
  worker.on("completed", (job) => options.metrics?.chatDelivery(job.data.platform, "delivered"));
  worker.on("failed", (job, error) => {
    const final = job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1);
    if (job) options.metrics?.chatDelivery(job.data.platform, final ? "failed" : "retried");
    const log = final ? logger.error.bind(logger) : logger.warn.bind(logger);
    log(
      {
        jobId: job?.id,
        kind: job?.data.kind,
        platform: job?.data.platform,
        attemptsMade: job?.attemptsMade,
        error: error.message,
      },
      final ? "chat message failed for good" : "chat message failed; retrying",
    );
  });
  worker.on("error", onWorkerError(CHAT_QUEUE, logger, options.redisHealth));
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
