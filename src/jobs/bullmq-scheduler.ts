import type { JobScheduler } from "../services/ports.js";
import { ensureDelayedJobs, hasUnfinishedJob } from "./delayed-jobs.js";
import { jobId, type QueueSet } from "./queues.js";

/** Every scheduler call gives up after this long: a slow Redis must not hold an API call or a sweep. */
const CALL_TIMEOUT_MS = 5_000;

function bounded<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: Redis did not answer within ${CALL_TIMEOUT_MS} ms`)),
      CALL_TIMEOUT_MS,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Jobs with deterministic ids, each due no later than asked (see delayed-jobs.ts): a job is
 * moved earlier, never later, so concurrent writers cannot undo each other; a job that fires
 * before its grant's or request's current deadline goes back to sleep in its worker.
 */
export function createJobScheduler(queues: QueueSet): JobScheduler {
  return {
    enqueueActivation: (grantId) =>
      bounded(
        "enqueue activation",
        ensureDelayedJobs(queues.grants, [{ id: jobId.activate(grantId), data: { grantId }, at: new Date() }]),
      ).then(() => undefined),
    scheduleRevoke: (grantId, at) =>
      bounded(
        "schedule revoke",
        ensureDelayedJobs(queues.revokes, [{ id: jobId.revoke(grantId), data: { grantId }, at }]),
      ).then(() => undefined),
    ensureRevokeJobs: (revokes) =>
      bounded(
        `restore ${revokes.length} revoke jobs`,
        ensureDelayedJobs(
          queues.revokes,
          revokes.map(({ grantId, at }) => ({ id: jobId.revoke(grantId), data: { grantId }, at })),
        ),
      ),
    hasRevokeJob: (grantId) => bounded("look up revoke job", hasUnfinishedJob(queues.revokes, jobId.revoke(grantId))),
    scheduleRequestExpiry: (requestId, at) =>
      bounded(
        "schedule request expiry",
        ensureDelayedJobs(queues.requests, [{ id: jobId.expireRequest(requestId), data: { requestId }, at }]),
      ).then(() => undefined),
    scheduleEscalation: (requestId, step, at) =>
      bounded(
        "schedule escalation",
        ensureDelayedJobs(queues.escalations, [{ id: jobId.escalate(requestId, step), data: { requestId, step }, at }]),
      ).then(() => undefined),
  };
}
