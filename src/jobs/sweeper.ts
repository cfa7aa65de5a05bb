import type { ServiceDeps } from "../services/deps.js";
import { type SweepReport, sweep } from "../services/sweep.js";

/**
 * Runs the sweep on a timer in every worker process, with a database lock so only one process
 * sweeps at a time. It is deliberately not a BullMQ repeatable job: that would live in Redis and
 * vanish with exactly the failure (a flushed or lost Redis) it exists to repair.
 */
export interface Sweeper {
  /** Sweeps now (or joins the sweep under way); undefined when another process holds the lock. */
  runOnce(): Promise<SweepReport | undefined>;
  stop(): Promise<void>;
}

export function startSweeper(deps: ServiceDeps, intervalSeconds: number): Sweeper {
  let running: Promise<SweepReport | undefined> | undefined;
  const runOnce = () => {
    running ??= deps.store
      .withExclusiveLock("sweeper", () => sweep(deps))
      .catch((error: unknown) => {
        deps.logger.error({ error: error instanceof Error ? error.message : String(error) }, "sweep failed");
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void runOnce(), intervalSeconds * 1000);
  timer.unref();
  void runOnce();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
