import { Queue, type JobsOptions } from "bullmq";
import { Redis } from "ioredis";

/**
 * Queue names, deterministic job ids and retry policy. Payloads carry ids only: the database
 * decides what a job does when it runs.
 */

export const QUEUE = { grants: "grants", revokes: "revokes", requests: "requests" } as const;

export const jobId = {
  activate: (grantId: string) => `grant-${grantId}`,
  revoke: (grantId: string) => `revoke-${grantId}`,
  expireRequest: (requestId: string) => `expire-${requestId}`,
};

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
  connection: Redis;
  close(): Promise<void>;
}

export function createRedis(url: string): Redis {
  // BullMQ requires maxRetriesPerRequest: null for blocking connections.
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

export function createQueues(redisUrl: string, prefix: string, retry?: RetryPolicy): QueueSet {
  const connection = createRedis(redisUrl);
  const jobOptions = retry ? { ...CONNECTOR_JOB_OPTIONS, attempts: retry.attempts, backoff: { type: "exponential", delay: retry.backoffMs } } : CONNECTOR_JOB_OPTIONS;
  const options = { connection, prefix, defaultJobOptions: jobOptions };
  const grants = new Queue<GrantJobData>(QUEUE.grants, options);
  const revokes = new Queue<GrantJobData>(QUEUE.revokes, options);
  const requests = new Queue<RequestJobData>(QUEUE.requests, { ...options, defaultJobOptions: { attempts: 5, backoff: { type: "exponential", delay: 1_000 }, removeOnComplete: true, removeOnFail: 1000 } });
  return {
    grants,
    revokes,
    requests,
    connection,
    async close() {
      await Promise.all([grants.close(), revokes.close(), requests.close()]);
      connection.disconnect();
    },
  };
}
