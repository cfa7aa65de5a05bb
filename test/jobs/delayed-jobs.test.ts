import { randomUUID } from "node:crypto";
import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJobScheduler } from "../../src/jobs/bullmq-scheduler.js";
import { createQueues, jobId, QUEUE, type QueueSet, waitUntilReady } from "../../src/jobs/queues.js";
import type { JobScheduler } from "../../src/services/ports.js";
import { type PrivateRedis, startPrivateRedis } from "../helpers/private-redis.js";
import { waitFor } from "../helpers/wait.js";

/**
 * The scheduler's one rule: a job exists and is due no later than asked. It adds what is missing
 * (a finished job kept in Redis counts as missing), moves a job earlier, never later, and so an
 * immediate revoke cannot be undone by a concurrent schedule at the grant's expiry. Against a
 * Redis of its own, with no worker taking the jobs (so their state stays readable).
 */

let redis: PrivateRedis;
let queues: QueueSet;
let scheduler: JobScheduler;
let client: Redis;
const prefix = "delayed-jobs-test";
const HOUR = 3_600_000;

/** When the revoke job of `grantId` is due, from BullMQ's delayed set (score = due ms × 4096 + counter). */
async function dueAt(grantId: string): Promise<number | undefined> {
  const score = await client.zscore(`${prefix}:${QUEUE.revokes}:delayed`, jobId.revoke(grantId));
  return score === null ? undefined : Math.floor(Number(score) / 4096);
}
const stateOf = async (grantId: string) =>
  (await queues.revokes.getJob(jobId.revoke(grantId)))?.getState() ?? "missing";

/** Leaves a failed revoke job of `grantId` in Redis (kept for inspection), as a target that was down would. */
async function keepFailedRevokeJob(grantId: string): Promise<string> {
  const id = jobId.revoke(grantId);
  await queues.revokes.add("run", { grantId }, { jobId: id });
  const worker = new Worker(
    QUEUE.revokes,
    async () => {
      throw new Error("the target is down");
    },
    { connection: { host: "127.0.0.1", port: Number(new URL(redis.url).port) }, prefix },
  );
  try {
    await waitFor(async () => (await stateOf(grantId)) === "failed", "the job to fail");
  } finally {
    await worker.close();
  }
  return id;
}

beforeAll(async () => {
  redis = await startPrivateRedis();
  // One attempt, so a failing job is "failed" (and kept) at once.
  queues = createQueues(redis.url, prefix, { retry: { attempts: 1, backoffMs: 10 } });
  await waitUntilReady(queues.connection, 10_000);
  scheduler = createJobScheduler(queues);
  client = new Redis(redis.url);
});
afterAll(async () => {
  client?.disconnect();
  await queues?.close();
  await redis?.stop();
});

describe("scheduling delayed jobs", () => {
  it("adds a missing job due exactly when asked, and only ever moves it earlier", async () => {
    const grantId = randomUUID();
    const expiry = Date.now() + HOUR;
    await scheduler.scheduleRevoke(grantId, new Date(expiry));
    expect(await dueAt(grantId)).toBe(expiry);
    // Added with the queue's own job options (retries, removal once done), as Queue.add would.
    const added = await queues.revokes.getJob(jobId.revoke(grantId));
    expect(added?.opts).toMatchObject({ attempts: 1, removeOnComplete: true, removeOnFail: 1000 });

    // An extension asks for later: the job stays (its worker finds the grant not due and waits again).
    await scheduler.scheduleRevoke(grantId, new Date(expiry + HOUR));
    expect(await dueAt(grantId)).toBe(expiry);

    await scheduler.scheduleRevoke(grantId, new Date(expiry - HOUR / 2));
    expect(await dueAt(grantId)).toBeLessThanOrEqual(expiry - HOUR / 2 + 1_000);

    await scheduler.scheduleRevoke(grantId, new Date(0));
    expect(await stateOf(grantId)).toBe("waiting");
  });

  it("re-adds a job whose finished predecessor is kept in Redis, where a plain add would be ignored", async () => {
    const grantId = randomUUID();
    const id = await keepFailedRevokeJob(grantId);
    // BullMQ dedupes on the id of the job it kept: this add changes nothing.
    await queues.revokes.add("run", { grantId }, { jobId: id, delay: HOUR });
    expect(await stateOf(grantId)).toBe("failed");

    expect(await scheduler.ensureRevokeJobs([{ grantId, at: new Date(Date.now() + HOUR) }])).toBe(1);
    expect(await stateOf(grantId)).toBe("delayed");
  });

  it("re-adds a job behind a kept failed one when a revoke is scheduled at expiry too", async () => {
    const grantId = randomUUID();
    await keepFailedRevokeJob(grantId);
    const expiry = Date.now() + HOUR;
    // Redis lost every script (a SCRIPT FLUSH, a failover behind a proxy): the commands written
    // together must still run in their order.
    await client.script("FLUSH");
    // The look-up before the add, in the same round trip, clears the failed job so the add counts.
    await scheduler.scheduleRevoke(grantId, new Date(expiry));
    expect(await stateOf(grantId)).toBe("delayed");
    expect(await dueAt(grantId)).toBe(expiry);
  });

  it("moves earlier a job another writer added with a later time", async () => {
    const grantId = randomUUID();
    const expiry = Date.now() + 2 * HOUR;
    // Another writer's add won with a later time: this schedule's add is ignored, its look after sees it.
    await queues.revokes.add("run", { grantId }, { jobId: jobId.revoke(grantId), delay: 3 * HOUR });
    await scheduler.scheduleRevoke(grantId, new Date(expiry));
    expect(await dueAt(grantId)).toBeLessThanOrEqual(expiry + 1_000);
    expect(await dueAt(grantId)).toBeGreaterThan(expiry - HOUR);
  });

  it("lets an immediate revoke win over a schedule at expiry, whatever the order they reach Redis", async () => {
    const expiry = new Date(Date.now() + HOUR);
    const grants = Array.from({ length: 40 }, () => randomUUID());
    // Half of them already have their job at expiry (an activation or a sweep scheduled it).
    for (const grantId of grants.slice(0, 20)) await scheduler.scheduleRevoke(grantId, expiry);
    // With its scripts lost, Redis runs an add that ioredis resends after the commands written
    // behind it: the answer must not depend on the order the commands were written in.
    await client.script("FLUSH");
    await Promise.all(
      grants.map((grantId, index) => {
        const relinquish = () => scheduler.scheduleRevoke(grantId, new Date(0));
        const atExpiry = () => scheduler.scheduleRevoke(grantId, expiry);
        return index % 2 === 0
          ? Promise.all([relinquish(), atExpiry(), atExpiry()])
          : Promise.all([atExpiry(), relinquish(), atExpiry()]);
      }),
    );
    for (const grantId of grants) expect(await stateOf(grantId)).toBe("waiting");
  });

  it("ends at the earliest time asked when two writers move a job earlier at once", async () => {
    const latest = Date.now() + 3 * HOUR;
    const earliest = Date.now() + HOUR;
    const grants = Array.from({ length: 20 }, () => randomUUID());
    for (const grantId of grants) await scheduler.scheduleRevoke(grantId, new Date(latest));
    // BullMQ's changeDelay sets whatever delay it is given, later too: the second writer's move
    // can land after the first's. Each move is looked at again, and moved again if it was undone.
    await Promise.all(
      grants.map((grantId) =>
        Promise.all([
          scheduler.scheduleRevoke(grantId, new Date(earliest)),
          scheduler.scheduleRevoke(grantId, new Date(earliest + HOUR)),
        ]),
      ),
    );
    for (const grantId of grants) expect(await dueAt(grantId)).toBeLessThanOrEqual(earliest + 1_000);
  });

  it("checks and restores a thousand revoke jobs in one call, and finds nothing missing the second time", async () => {
    const at = new Date(Date.now() + HOUR);
    const revokes = Array.from({ length: 1_000 }, () => ({ grantId: randomUUID(), at }));
    expect(await scheduler.ensureRevokeJobs(revokes)).toBe(1_000);
    expect(await scheduler.ensureRevokeJobs(revokes)).toBe(0);
    for (const { grantId } of revokes.slice(0, 50)) expect(await dueAt(grantId)).toBe(at.getTime());
    expect(await scheduler.hasRevokeJob(revokes[0]!.grantId)).toBe(true);
    expect(await scheduler.hasRevokeJob(randomUUID())).toBe(false);
  });
});
