import { type JobsOptions, Queue } from "bullmq";
import { Redis } from "ioredis";
import type { OutageLog } from "../storage/outage-log.js";
import { reportOutages } from "./redis-outages.js";

/**
 * Queue names, deterministic job ids and retry policy. Payloads carry ids only: the database
 * decides what a job does when it runs.
 */

export const QUEUE = {
  grants: "grants",
  revokes: "revokes",
  requests: "requests",
  escalations: "escalations",
} as const;

export const jobId = {
  activate: (grantId: string) => `grant-${grantId}`,
  revoke: (grantId: string) => `revoke-${grantId}`,
  expireRequest: (requestId: string) => `expire-${requestId}`,
  escalate: (requestId: string, step: number) => `escalate-${requestId}-${step}`,
};

export interface EscalationJobData {
  requestId: string;
  step: number;
}

export interface GrantJobData {
  grantId: string;
}
export interface RequestJobData {
  requestId: string;
}

/** Connector work retries with exponential backoff (2 s, 4 s, … about 8.5 minutes in all) before failing for good. */
export const CONNECTOR_JOB_OPTIONS: JobsOptions = {
  attempts: 9,
  backoff: { type: "exponential", delay: 2_000 },
  removeOnComplete: true,
  removeOnFail: 1000,
};

export interface QueueSet {
  grants: Queue<GrantJobData>;
  revokes: Queue<GrantJobData>;
  requests: Queue<RequestJobData>;
  escalations: Queue<EscalationJobData>;
  connection: Redis;
  close(): Promise<void>;
}

/** Workers block on Redis and must wait for it (BullMQ requires maxRetriesPerRequest: null). */
export function createWorkerRedis(url: string, health: OutageLog): Redis {
  return reportOutages(new Redis(url, { maxRetriesPerRequest: null }), health);
}

/**
 * Producers fail fast while Redis is down instead of queueing commands until it returns: an API
 * call or a sweep must not hang on Redis; the sweeper repairs whatever could not be queued. (No
 * auto-pipelining: ioredis sends one auto-pipeline at a time, so commands behind one cut off by a
 * lost connection wait for the reconnect instead of failing.)
 */
export function createProducerRedis(url: string): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
}

/** Waits for the first connection, so fail-fast commands right after start-up do not fail for nothing. */
export async function waitUntilReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject(new Error(`Redis was not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once("ready", onReady);
  });
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/** For tools that build queues without a logger (the bench): outages go unlogged but cannot crash them. */
const UNHEARD: OutageLog = { down: () => undefined, up: () => undefined };

export function createQueues(
  redisUrl: string,
  prefix: string,
  { retry, health = UNHEARD }: { retry?: RetryPolicy; health?: OutageLog } = {},
): QueueSet {
  const connection = reportOutages(createProducerRedis(redisUrl), health);
  const jobOptions = retry
    ? { ...CONNECTOR_JOB_OPTIONS, attempts: retry.attempts, backoff: { type: "exponential", delay: retry.backoffMs } }
    : CONNECTOR_JOB_OPTIONS;
  const options = { connection, prefix, defaultJobOptions: jobOptions };
  const grants = new Queue<GrantJobData>(QUEUE.grants, options);
  const revokes = new Queue<GrantJobData>(QUEUE.revokes, options);
  const requestJobs = {
    attempts: 5,
    backoff: { type: "exponential", delay: 1_000 },
    removeOnComplete: true,
    removeOnFail: 1000,
  };
  const requests = new Queue<RequestJobData>(QUEUE.requests, { ...options, defaultJobOptions: requestJobs });
  const escalations = new Queue<EscalationJobData>(QUEUE.escalations, { ...options, defaultJobOptions: requestJobs });
  // Connection errors surface where they matter (a failed add); unheard, they would be printed or crash.
  for (const queue of [grants, revokes, requests, escalations]) queue.on("error", () => undefined);
  return {
    grants,
    revokes,
    requests,
    escalations,
    connection,
    async close() {
      await Promise.all([grants.close(), revokes.close(), requests.close(), escalations.close()]);
      connection.disconnect();
    },
  };
}
