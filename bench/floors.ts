import { Queue, Worker } from "bullmq";
import { connect } from "./bench-database.js";
import { type Spread, spread } from "./stats.js";

/**
 * Floors: what the parts Sesame is built on do on their own, on this machine, in this run. A
 * Sesame figure means little alone on a shared machine; next to its floor it shows what Sesame
 * itself adds.
 */

export interface BullmqFloor {
  /** No-op jobs per second through one Queue and one Worker, enqueue included. */
  jobsPerSecond: number;
  /** One job at a time: from `queue.add` to the worker running it. */
  pickup: Spread;
}

export async function measureBullmq(
  redisUrl: string,
  options: { jobs: number; concurrency: number; serialJobs: number },
): Promise<BullmqFloor> {
  const { hostname, port } = new URL(redisUrl);
  // BullMQ workers block on Redis and require maxRetriesPerRequest: null.
  const connection = { host: hostname, port: Number(port), maxRetriesPerRequest: null };
  // A prefix of its own: the floor never sees Sesame's queues on the same Redis.
  const prefix = "bench-floor";
  const queue = new Queue("noop", {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  const pickedUp = new Map<string, () => void>();
  let done = 0;
  let allDone: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const worker = new Worker(
    "noop",
    async (job) => {
      const waiter = job.id ? pickedUp.get(job.id) : undefined;
      if (waiter) waiter();
      else if (++done === options.jobs) allDone();
    },
    { connection, prefix, concurrency: options.concurrency },
  );
  const errors: Error[] = [];
  worker.on("error", (error) => errors.push(error));
  queue.on("error", (error) => errors.push(error));
  try {
    await worker.waitUntilReady();
    const started = performance.now();
    await queue.addBulk(Array.from({ length: options.jobs }, (_, i) => ({ name: "noop", data: { i } })));
    await finished;
    const jobsPerSecond = options.jobs / ((performance.now() - started) / 1000);

    const latencies: number[] = [];
    for (let i = 0; i < options.serialJobs; i++) {
      const id = `pickup-${i}`;
      const seen = new Promise<void>((resolve) => pickedUp.set(id, resolve));
      const added = performance.now();
      await queue.add("noop", {}, { jobId: id });
      await seen;
      latencies.push(performance.now() - added);
    }
    if (errors.length > 0) throw new Error(`BullMQ floor: ${errors[0]!.message}`);
    return { jobsPerSecond, pickup: spread(latencies) };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

export interface CommitFloor {
  /** `BEGIN; INSERT; COMMIT` one after another on one connection: durable commits per second. */
  commitsPerSecond: number;
  commit: Spread;
}

/**
 * Serial commits of a one-row INSERT into a logged table: each waits for its WAL flush, like
 * Sesame's writes do (a `SELECT 1` would never touch the WAL).
 */
export async function measureCommits(databaseUrl: string, durationMs: number): Promise<CommitFloor> {
  const client = await connect(databaseUrl);
  try {
    await client.query(
      "CREATE TABLE bench_commit_floor (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())",
    );
    const latencies: number[] = [];
    const started = performance.now();
    while (performance.now() - started < durationMs) {
      const begun = performance.now();
      await client.query("BEGIN");
      await client.query("INSERT INTO bench_commit_floor DEFAULT VALUES");
      await client.query("COMMIT");
      latencies.push(performance.now() - begun);
    }
    const commitsPerSecond = latencies.length / ((performance.now() - started) / 1000);
    await client.query("DROP TABLE bench_commit_floor");
    return { commitsPerSecond, commit: spread(latencies) };
  } finally {
    await client.end();
  }
}

export interface HttpFloor {
  requestsPerSecond: number;
  latency: Spread;
  /** Answers other than 200 (or none at all). */
  failures: number;
}

/** GET `url` from `concurrency` loops for `durationMs`, with keep-alive like the lifecycle driver. */
export async function measureHttp(
  url: string,
  options: { concurrency: number; durationMs: number },
): Promise<HttpFloor> {
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const loop = async (): Promise<void> => {
    while (performance.now() - started < options.durationMs) {
      const sent = performance.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        if (response.status === 200) latencies.push(performance.now() - sent);
        else failures += 1;
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const requestsPerSecond = latencies.length / ((performance.now() - started) / 1000);
  return { requestsPerSecond, latency: spread(latencies), failures };
}
