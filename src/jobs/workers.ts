import { DelayedError, type Job, Worker } from "bullmq";
import type { WorkerQueue } from "../config/env.js";
import { activateGrant } from "../services/activate-grant.js";
import type { ServiceDeps } from "../services/deps.js";
import { runEscalationStep } from "../services/escalate-request.js";
import { expireRequest } from "../services/expire-request.js";
import { performRevoke } from "../services/revoke-grant.js";
import { createWorkerRedis, type EscalationJobData, type GrantJobData, QUEUE, type RequestJobData } from "./queues.js";

const isFinalAttempt = (job: Job): boolean => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);

export interface WorkerSet {
  close(): Promise<void>;
}

/** The grant, revoke, request-expiry and escalation workers. Each claims the database row before acting. */
export function startWorkers(
  deps: ServiceDeps,
  options: { redisUrl: string; prefix: string; concurrency: (queue: WorkerQueue) => number },
): WorkerSet {
  const connection = createWorkerRedis(options.redisUrl);
  connection.on("error", () => undefined);
  const common = (queue: WorkerQueue) => ({
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency(queue),
  });

  const grants = new Worker<GrantJobData>(
    QUEUE.grants,
    async (job) => {
      await activateGrant(deps, job.data.grantId, { finalAttempt: isFinalAttempt(job) });
    },
    common("grants"),
  );

  const revokes = new Worker<GrantJobData>(
    QUEUE.revokes,
    async (job, token) => {
      const result = await performRevoke(deps, job.data.grantId, { finalAttempt: isFinalAttempt(job) });
      if (result.kind === "not_due") {
        // The grant was extended after this job was scheduled: sleep again until the new expiry.
        await job.moveToDelayed(result.expiresAt.getTime(), token);
        throw new DelayedError();
      }
    },
    common("revokes"),
  );

  const requests = new Worker<RequestJobData>(
    QUEUE.requests,
    async (job, token) => {
      const request = await deps.store.getRequest(job.data.requestId);
      if (request?.status === "pending" && request.pendingUntil > deps.now()) {
        await job.moveToDelayed(request.pendingUntil.getTime(), token);
        throw new DelayedError();
      }
      await expireRequest(deps, job.data.requestId);
    },
    common("requests"),
  );

  const escalations = new Worker<EscalationJobData>(
    QUEUE.escalations,
    async (job) => {
      await runEscalationStep(deps, job.data.requestId, job.data.step);
    },
    common("escalations"),
  );

  for (const worker of [grants, revokes, requests, escalations]) {
    worker.on("failed", (job, error) =>
      deps.logger.warn(
        { queue: worker.name, jobId: job?.id, attemptsMade: job?.attemptsMade, error: error.message },
        "job attempt failed",
      ),
    );
    worker.on("error", (error) => deps.logger.error({ queue: worker.name, error: error.message }, "worker error"));
  }
  return {
    async close() {
      await Promise.all([grants.close(), revokes.close(), requests.close(), escalations.close()]);
      connection.disconnect();
    },
  };
}
