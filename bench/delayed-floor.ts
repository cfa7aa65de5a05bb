import { Queue, Worker } from "bullmq";
import { type Lateness, lateness } from "./lateness.js";
import { sleep } from "./wait.js";

/**
 * The floor under Sesame's revoke timing: BullMQ's own delayed jobs on the same Redis, with as
 * many far-future jobs queued as Sesame has live grants and a no-op worker of Sesame's revoke
 * concurrency. Lateness = when the worker started the job − when it was due.
 */
export interface DelayedFloor {
  /** Jobs falling due at a steady rate. */
  rate: Lateness;
  /** Jobs all due within one second. */
  burst: Lateness;
  /** From the start of the burst's second to the last job's start. */
  burstDoneMs: number;
}

const FAR_FUTURE_MS = 12 * 3_600_000;
const ADD_CHUNK = 5_000;
/** Time to add the measured jobs before the first is due. */
const LEAD_MS = 3_000;

export async function measureDelayedFloor(
  redisUrl: string,
  options: { liveJobs: number; rate: number; windowSeconds: number; burst: number; concurrency: number },
): Promise<DelayedFloor> {
  const { hostname, port } = new URL(redisUrl);
  const connection = { host: hostname, port: Number(port), maxRetriesPerRequest: null };
  // A prefix of its own: the floor never touches Sesame's queues on the same Redis.
  const prefix = "bench-delayed-floor";
  const queue = new Queue("floor", { connection, prefix, defaultJobOptions: { removeOnComplete: true } });
  const late = new Map<string, number[]>([
    ["rate", []],
    ["burst", []],
  ]);
  let lastBurstStart = 0;
  const worker = new Worker(
    "floor",
    async (job) => {
      const { due, kind } = job.data as { due: number; kind: string };
      const now = Date.now();
      late.get(kind)?.push(now - due);
      if (kind === "burst") lastBurstStart = Math.max(lastBurstStart, now);
    },
    { connection, prefix, concurrency: options.concurrency },
  );
  const errors: Error[] = [];
  worker.on("error", (error) => errors.push(error));
  try {
    await worker.waitUntilReady();
    for (let added = 0; added < options.liveJobs; added += ADD_CHUNK) {
      const count = Math.min(ADD_CHUNK, options.liveJobs - added);
      await queue.addBulk(
        Array.from({ length: count }, () => ({
          name: "live",
          data: { due: 0, kind: "live" },
          opts: { delay: FAR_FUTURE_MS },
        })),
      );
    }
    const rateCount = options.rate * options.windowSeconds;
    const rateStart = Date.now() + LEAD_MS;
    await addDue(queue, "rate", rateCount, (i) => rateStart + (i * 1000) / options.rate);
    await waitFor(late.get("rate")!, rateCount, rateStart + options.windowSeconds * 1000 + 60_000);

    const burstStart = Math.ceil((Date.now() + LEAD_MS) / 1000) * 1000;
    await addDue(queue, "burst", options.burst, (i) => burstStart + (i * 1000) / options.burst);
    await waitFor(late.get("burst")!, options.burst, burstStart + 120_000);
    const burst = late.get("burst")!;
    if (errors.length > 0) throw new Error(`BullMQ delayed floor: ${errors[0]!.message}`);
    return {
      rate: lateness(late.get("rate")!),
      burst: lateness(burst),
      burstDoneMs: lastBurstStart - burstStart,
    };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

async function addDue(queue: Queue, kind: string, count: number, dueAt: (i: number) => number): Promise<void> {
  for (let start = 0; start < count; start += ADD_CHUNK) {
    const now = Date.now();
    await queue.addBulk(
      Array.from({ length: Math.min(ADD_CHUNK, count - start) }, (_, k) => {
        const due = Math.round(dueAt(start + k));
        return { name: kind, data: { due, kind }, opts: { timestamp: now, delay: Math.max(0, due - now) } };
      }),
    );
  }
}

async function waitFor(seen: readonly number[], count: number, deadline: number): Promise<void> {
  while (seen.length < count && Date.now() < deadline) await sleep(100);
}
