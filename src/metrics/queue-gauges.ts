import { Gauge, type Registry } from "prom-client";
import type { Store } from "../services/ports.js";

/** What the gauges read of a BullMQ queue. */
export interface CountableQueue {
  name: string;
  getJobCounts(...states: (typeof STATES)[number][]): Promise<Record<string, number>>;
  getJobs(
    states: ("wait" | "delayed")[],
    start: number,
    end: number,
    asc: boolean,
  ): Promise<({ timestamp: number; delay?: number } | undefined)[]>;
}

export interface QueueGaugeOptions {
  registry: Registry;
  queues: CountableQueue[];
  store: Pick<Store, "takeNamedLease" | "releaseNamedLease">;
  instanceId: string;
  now: () => Date;
}

const STATES = ["waiting", "delayed", "active", "failed"] as const;
const LEASE_NAME = "metrics-queues";
/** Longer than any sane scrape interval: the holder keeps it while it is scraped; another takes over after. */
const LEASE_SECONDS = 120;

interface Snapshot {
  /** Undefined: another process exports the queues (or they could not be read). */
  queues?: { name: string; counts: Record<string, number>; oldestSeconds: number }[];
}

/**
 * Queue depth and oldest job age are the same numbers from every process (the queues live in
 * Redis), so only one process exports them: the holder of a named lease, like the sweeper's.
 * Summing over processes in Prometheus then stays right. Read at scrape time, never on a timer.
 */
export function createQueueGauges(options: QueueGaugeOptions): { close(): Promise<void> } {
  const { queues, store, instanceId, now } = options;
  let held = false;

  const read = async (): Promise<Snapshot> => {
    try {
      held = await store.takeNamedLease(LEASE_NAME, instanceId, LEASE_SECONDS);
      if (!held) return {};
      const nowMs = now().getTime();
      return {
        queues: await Promise.all(
          queues.map(async (queue) => {
            const counts = await queue.getJobCounts(...STATES);
            const [waiting] = await queue.getJobs(["wait"], 0, 0, true);
            const [delayed] = await queue.getJobs(["delayed"], 0, 0, true);
            const ages = [waiting, delayed].map((job) =>
              job ? Math.max(0, (nowMs - job.timestamp - (job.delay ?? 0)) / 1000) : 0,
            );
            return { name: queue.name, counts, oldestSeconds: Math.max(...ages) };
          }),
        ),
      };
    } catch {
      // The database or Redis away: no queue numbers this scrape, rather than a failed scrape.
      return {};
    }
  };
  // One read serves both gauges of a scrape: each gauge takes a snapshot once, and the gauge that
  // comes back to a snapshot it already took starts the next scrape's read. No clock involved,
  // so a scrape never shows numbers older than itself.
  let last: { snapshot: Promise<Snapshot>; takenBy: Set<string> } | undefined;
  const current = (gauge: string) => {
    if (!last || last.takenBy.has(gauge)) last = { snapshot: read(), takenBy: new Set() };
    last.takenBy.add(gauge);
    return last.snapshot;
  };

  new Gauge({
    name: "sesame_queue_jobs",
    help: "Jobs in each queue by state (exported by one process per install)",
    labelNames: ["queue", "state"],
    registers: [options.registry],
    async collect() {
      const { queues: seen } = await current("jobs");
      this.reset();
      for (const queue of seen ?? [])
        for (const state of STATES) this.set({ queue: queue.name, state }, queue.counts[state] ?? 0);
    },
  });
  new Gauge({
    name: "sesame_queue_oldest_job_age_seconds",
    help: "Seconds the oldest job due in each queue has waited to run (exported by one process per install)",
    labelNames: ["queue"],
    registers: [options.registry],
    async collect() {
      const { queues: seen } = await current("age");
      this.reset();
      for (const queue of seen ?? []) this.set({ queue: queue.name }, queue.oldestSeconds);
    },
  });
  return {
    async close() {
      if (held) await store.releaseNamedLease(LEASE_NAME, instanceId).catch(() => undefined);
    },
  };
}
