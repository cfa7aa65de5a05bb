import { DelayedError, type Job, Worker } from "bullmq";
import type { WorkerQueue } from "../config/env.js";
import { activateGrant } from "../services/activate-grant.js";
import type { ServiceDeps } from "../services/deps.js";
import { isEntitlementBusy } from "../services/entitlement-lease.js";
import { runEscalationStep } from "../services/escalate-request.js";
import { expireRequest } from "../services/expire-request.js";
import { createRevokeBatcher } from "../services/revoke-batcher.js";
import { isRevokeDue } from "../services/revoke-grant.js";
import type { OutageLog } from "../storage/outage-log.js";
import { createWorkerRedis, type EscalationJobData, type GrantJobData, QUEUE, type RequestJobData } from "./queues.js";
import { onWorkerError } from "./redis-outages.js";

const isFinalAttempt = (job: Job): boolean => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);

/** A revoke whose entitlement is claimed by someone else looks again this much later. */
const BUSY_RETRY_MS = 1_000;

/** Revoke batches being claimed at once per process, while the next one gathers. */
const REVOKE_CLAIMS_AT_ONCE = 3;

/**
 * A job whose worker died (killed, out of memory, host lost) runs again within lockDuration +
 * stalledInterval = 15 s wherever a worker lives: its lock (renewed every lockDuration / 2 while
 * the worker lives) runs out after lockDuration, and the next stalled-job check (every
 * stalledInterval) moves it back to waiting. BullMQ's defaults (30 s each) take up to a minute. A
 * worker blocked for lockDuration / 2 (a frozen event loop) may see its job run twice: every job
 * claims its row first, so the second run finds nothing to do. maxStalledCount 2: a job whose
 * workers died twice still runs a third time before the sweeper has to notice.
 */
const STALL_OPTIONS = { lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 2 } as const;

export interface WorkerSet {
  close(): Promise<void>;
}

/** The grant, revoke, request-expiry and escalation workers. Each claims the database row before acting. */
export function startWorkers(
  deps: ServiceDeps,
  options: { redisUrl: string; prefix: string; concurrency: (queue: WorkerQueue) => number; redisHealth: OutageLog },
): WorkerSet {
  const connection = createWorkerRedis(options.redisUrl, options.redisHealth);
  const common = (queue: WorkerQueue) => ({
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency(queue),
    ...STALL_OPTIONS,
  });

  const grants = new Worker<GrantJobData>(
    QUEUE.grants,
    async (job) => {
      await activateGrant(deps, job.data.grantId, { finalAttempt: isFinalAttempt(job) });
    },
    common("grants"),
  );

  // The jobs running at once share their database round trips (revoke-batcher.ts): a burst of
  // expiries costs a few statements per hundred grants, not a dozen per grant.
  const revokeConcurrency = options.concurrency("revokes");
  const batcher = createRevokeBatcher(deps, {
    maxBatch: Math.max(1, Math.ceil(revokeConcurrency / REVOKE_CLAIMS_AT_ONCE)),
    claimsAtOnce: REVOKE_CLAIMS_AT_ONCE,
  });
  const revokes = new Worker<GrantJobData>(
    QUEUE.revokes,
    async (job, token) => {
      const result = await batcher
        .revoke({ grantId: job.data.grantId, finalAttempt: isFinalAttempt(job) })
        .catch(async (error: unknown) => {
          if (!isEntitlementBusy(error)) throw error;
          // The claim is someone else's for now (the sweeper revoking this very grant, or a call on
          // the same access): look again shortly, without spending an attempt or logging a failure.
          await job.moveToDelayed(Date.now() + BUSY_RETRY_MS, token);
          throw new DelayedError();
        });
      if (result.kind === "not_due") {
        // The grant was extended after this job was scheduled: sleep again until the new expiry.
        await job.moveToDelayed(result.expiresAt.getTime(), token);
        // A relinquish that committed meanwhile found this job running and left it alone; now
        // that the job sleeps, a look at the grant tells whether it must wake up at once.
        if (await isRevokeDue(deps, job.data.grantId)) await deps.jobs.scheduleRevoke(job.data.grantId, new Date(0));
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
    worker.on("error", onWorkerError(worker.name, deps.logger, options.redisHealth));
  }
  return {
    async close() {
      await Promise.all([grants.close(), revokes.close(), requests.close(), escalations.close()]);
      connection.disconnect();
    },
  };
}
