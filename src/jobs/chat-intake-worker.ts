import { randomUUID } from "node:crypto";
import { Worker } from "bullmq";
import type { Logger } from "../services/ports.js";
import type { OutageLog } from "../storage/outage-log.js";
import { type ChatIntakeRunner, INTAKE_QUEUE, type IntakeJobData } from "./chat-intake-queue.js";
import { createWorkerRedis } from "./queues.js";
import { onWorkerError } from "./redis-outages.js";

/**
 * The worker of the chat intake queue: runs stored chat actions a bounded number at a time, and
 * every 30 s re-queues the rows a dead process or a lost job left behind.
 */
export function startIntakeWorker(
  intake: ChatIntakeRunner,
  logger: Logger,
  options: { redisUrl: string; prefix: string; concurrency: number; redisHealth: OutageLog; recoverEveryMs?: number },
): { close(): Promise<void> } {
  const connection = createWorkerRedis(options.redisUrl, options.redisHealth);
  const worker = new Worker<IntakeJobData>(
    INTAKE_QUEUE,
    async (job, token) => {
      const intakeId = typeof job.data?.intakeId === "string" ? job.data.intakeId : undefined;
      if (!intakeId) return void logger.error({ jobId: job.id }, "chat intake job with an unknown shape dropped");
      // The lock token, not the job id: a stalled job run again elsewhere must not share its lease.
      await intake.run(intakeId, job.attemptsMade + 1 >= (job.opts.attempts ?? 1), `job-${token ?? randomUUID()}`);
    },
    { connection, prefix: options.prefix, concurrency: options.concurrency },
  );
  worker.on("failed", (job, error) =>
    logger.warn(
      { jobId: job?.id, attemptsMade: job?.attemptsMade, error: error.message },
      "chat action attempt failed",
    ),
  );
  worker.on("error", onWorkerError(INTAKE_QUEUE, logger, options.redisHealth));
  const recover = () =>
    void intake
      .recover()
      .catch((error: unknown) => logger.warn({ error: String(error) }, "chat intake recovery failed"));
  recover();
  const timer = setInterval(recover, options.recoverEveryMs ?? 30_000);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      await worker.close();
      connection.disconnect();
    },
  };
}
