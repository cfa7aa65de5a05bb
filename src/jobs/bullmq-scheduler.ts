import type { Job, Queue } from "bullmq";
import type { JobScheduler } from "../services/ports.js";
import { jobId, type QueueSet } from "./queues.js";

/**
 * Adds a delayed job with a deterministic id, or moves the existing one. BullMQ ignores an add
 * whose id already exists, so an existing delayed job gets its delay changed instead, and a
 * finished one is removed first.
 */
async function upsertDelayed<T>(queue: Queue<T>, id: string, data: T, at: Date): Promise<void> {
  const delay = Math.max(0, at.getTime() - Date.now());
  const existing: Job<T> | undefined = await queue.getJob(id);
  if (existing) {
    const state = await existing.getState();
    if (state === "delayed") {
      if (delay === 0) await existing.promote();
      else await existing.changeDelay(delay);
      return;
    }
    if (state === "waiting" || state === "active" || state === "prioritized" || state === "waiting-children") return;
    await existing.remove();
  }
  // BullMQ's typings make the job name a generic of the queue; a plain string is what it stores.
  await (queue as Queue).add("run", data, { jobId: id, delay });
}

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

export function createJobScheduler(queues: QueueSet): JobScheduler {
  return {
    enqueueActivation: (grantId) =>
      bounded("enqueue activation", upsertDelayed(queues.grants, jobId.activate(grantId), { grantId }, new Date())),
    scheduleRevoke: (grantId, at) =>
      bounded("schedule revoke", upsertDelayed(queues.revokes, jobId.revoke(grantId), { grantId }, at)),
    hasRevokeJob: (grantId) =>
      bounded(
        "look up revoke job",
        (async () => {
          const job = await queues.revokes.getJob(jobId.revoke(grantId));
          if (!job) return false;
          const state = await job.getState();
          return state === "delayed" || state === "waiting" || state === "active" || state === "prioritized";
        })(),
      ),
    scheduleRequestExpiry: (requestId, at) =>
      bounded(
        "schedule request expiry",
        upsertDelayed(queues.requests, jobId.expireRequest(requestId), { requestId }, at),
      ),
    scheduleEscalation: (requestId, step, at) =>
      bounded(
        "schedule escalation",
        upsertDelayed(queues.escalations, jobId.escalate(requestId, step), { requestId, step }, at),
      ),
  };
}
