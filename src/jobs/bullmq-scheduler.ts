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

export function createJobScheduler(queues: QueueSet): JobScheduler {
  return {
    async enqueueActivation(grantId) {
      await upsertDelayed(queues.grants, jobId.activate(grantId), { grantId }, new Date());
    },
    async scheduleRevoke(grantId, at) {
      await upsertDelayed(queues.revokes, jobId.revoke(grantId), { grantId }, at);
    },
    async hasRevokeJob(grantId) {
      const job = await queues.revokes.getJob(jobId.revoke(grantId));
      if (!job) return false;
      const state = await job.getState();
      return state === "delayed" || state === "waiting" || state === "active" || state === "prioritized";
    },
    async scheduleRequestExpiry(requestId, at) {
      await upsertDelayed(queues.requests, jobId.expireRequest(requestId), { requestId }, at);
    },
  };
}
