import { Redis } from "ioredis";
import type { PrivatePostgres } from "./private-postgres.js";
import type { PrivateRedis } from "./private-redis.js";
import { sleep } from "./wait.js";

/** One thing the fault bench broke, when, and how long it took to do. */
export interface FaultRecord {
  fault: string;
  /** Milliseconds after the first expiry of the run. */
  atMs: number;
  tookMs: number;
}

export interface FaultTargets {
  /** Kills Sesame's worker with SIGKILL (no shutdown of any kind) and starts a new one. */
  killAndRestartWorker(): Promise<void>;
  redis: PrivateRedis;
  postgres: PrivatePostgres;
}

/**
 * Breaks the bench's own processes on a timeline measured from `origin` (the first expiry):
 * the worker is killed in the middle of the burst, the bench's Redis loses every key (FLUSHALL:
 * every delayed revoke job is gone) halfway through the stream, and the bench's PostgreSQL is
 * stopped at once (like a crash) and started again near its end. Only the bench's own
 * redis-server and cluster are touched.
 */
export async function injectFaults(
  targets: FaultTargets,
  timeline: { origin: number; killAtMs: number; flushAtMs: number; restartPostgresAtMs: number },
): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  const at = async (fault: string, offsetMs: number, act: () => Promise<void>) => {
    await sleep(Math.max(0, timeline.origin + offsetMs - Date.now()));
    const started = Date.now();
    await act();
    records.push({ fault, atMs: started - timeline.origin, tookMs: Date.now() - started });
  };
  await at("SIGKILL the worker, start a new one", timeline.killAtMs, targets.killAndRestartWorker);
  await at("FLUSHALL the bench's Redis", timeline.flushAtMs, async () => {
    const redis = new Redis(targets.redis.url);
    redis.on("error", () => undefined);
    try {
      await redis.flushall();
    } finally {
      redis.disconnect();
    }
  });
  await at("restart the bench's PostgreSQL (immediate stop)", timeline.restartPostgresAtMs, targets.postgres.restart);
  return records;
}
