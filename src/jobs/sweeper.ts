import type { ServiceDeps } from "../services/deps.js";
import { type SweepReport, sweep } from "../services/sweep.js";
import { holdUntilNextRun, startOwnPace } from "./lease-hold.js";

/**
 * Runs the sweep on a timer in every worker process, one process at a time and once per interval
 * in the whole install. It is deliberately not a BullMQ repeatable job: that would live in Redis
 * and vanish with exactly the failure (a flushed or lost Redis) it exists to repair. "One at a
 * time" is a lease row (NamedLease), not a lock held in a transaction: the sweep talks to Redis
 * and connectors, and no transaction may stay open across that. The lease is renewed after every
 * batch and, once the sweep is done, held for the rest of the interval (lease-hold.ts); a process
 * that dies or loses the database lets it run out, and another takes over. The other processes
 * look every TRY_EVERY_SECONDS, so a sweep starts at most that long after the interval is over,
 * whichever process swept last and whatever became of it.
 */
export interface Sweeper {
  /**
   * Sweeps now (or joins the sweep under way); undefined when another process holds the lease (it
   * sweeps, or swept in this interval) or the sweep failed.
   */
  runOnce(): Promise<SweepReport | undefined>;
  stop(): Promise<void>;
}

const LEASE_NAME = "sweeper";
/**
 * How long the lease outlives its last renewal. A batch (a page of revokes, 20 at a time, or a
 * page of job look-ups) takes far less; a sweep that renewed nothing for this long is stuck.
 */
export const SWEEP_LEASE_SECONDS = 60;
/** How often a process looks whether the interval is over (one upsert of the lease row when it does not hold it). */
const TRY_EVERY_SECONDS = 5;

interface Run {
  done: Promise<SweepReport | undefined>;
  /** Set when the run made no progress for a whole lease: its next checkpoint stops it. */
  abandoned: boolean;
  progressAt: number;
}

export function startSweeper(deps: ServiceDeps, intervalSeconds: number): Sweeper {
  let current: Run | undefined;
  let stopped = false;
  const runOnce = () => {
    if (current && deps.now().getTime() - current.progressAt < SWEEP_LEASE_SECONDS * 1000) return current.done;
    if (current) {
      // Stuck on a call that never returns (a database that vanished mid-query): that sweep's
      // lease has run out already, so this one starts afresh and the stuck one stops at its next checkpoint.
      current.abandoned = true;
      deps.logger.warn({ leaseSeconds: SWEEP_LEASE_SECONDS }, "the last sweep made no progress; starting another");
    }
    const run: Run = { done: Promise.resolve(undefined), abandoned: false, progressAt: deps.now().getTime() };
    run.done = sweepUnderLease(deps, run, {
      intervalSeconds,
      ran: (startedAt) => pace.ran(startedAt),
      stopping: () => stopped,
    }).finally(() => {
      if (current === run) current = undefined;
    });
    current = run;
    return run.done;
  };
  // This process's own next sweep waits for its interval to end; the lease keeps the others waiting.
  const pace = startOwnPace(() => void runOnce(), {
    intervalMs: intervalSeconds * 1000,
    lookEveryMs: Math.min(intervalSeconds, TRY_EVERY_SECONDS) * 1000,
  });
  void runOnce();
  return {
    runOnce,
    async stop() {
      stopped = true;
      pace.stop();
      await current?.done;
      // The interval this process held is handed on: another process sweeps at its next tick.
      await deps.store.releaseNamedLease(LEASE_NAME, deps.instanceId).catch(() => undefined);
    },
  };
}

async function sweepUnderLease(
  deps: ServiceDeps,
  run: Run,
  options: { intervalSeconds: number; ran(startedAt: number): void; stopping(): boolean },
): Promise<SweepReport | undefined> {
  const { intervalSeconds } = options;
  const lease = { name: LEASE_NAME, owner: deps.instanceId };
  const take = () => deps.store.takeNamedLease(lease.name, lease.owner, SWEEP_LEASE_SECONDS);
  // An abandoned run leaves the lease to the run of this process that replaced it.
  const giveBack = () =>
    run.abandoned ? undefined : deps.store.releaseNamedLease(lease.name, lease.owner).catch(() => undefined);
  try {
    if (!(await take())) return undefined;
    const started = performance.now();
    // Not before an interval from now in this process, whatever the outcome: a failing sweep is
    // tried again an interval later (or by another process, once it gave the lease back).
    options.ran(started);
    const report = await sweep(deps, async () => {
      if (run.abandoned) throw new Error("this sweep was abandoned after making no progress");
      if (options.stopping()) throw new Error("shutting down");
      if (!(await take())) throw new Error("another process took the sweeper's lease over");
      run.progressAt = deps.now().getTime();
    }).catch(async (error: unknown) => {
      // Given back, so another process tries at its next tick.
      await giveBack();
      throw error;
    });
    for (const [kind, count] of Object.entries(report))
      if (kind !== "errors" && count > 0) deps.metrics?.sweeperRepairs(kind, count);
    // Quiet when there was nothing to repair: a line every interval would say nothing.
    if (Object.values(report).some((count) => count > 0))
      deps.logger.info(
        { ...report, tookMs: Math.round(performance.now() - started) },
        "sweep repaired what jobs had not done",
      );
    // A stopping process hands the lease on instead (stop() gives it back).
    if (!run.abandoned && !options.stopping())
      await holdUntilNextRun(deps.store, lease, { intervalSeconds, elapsedMs: performance.now() - started }).catch(
        () => undefined,
      );
    return report;
  } catch (error) {
    // The database away (its outage is logged where it is noticed) or the lease lost: no harm
    // done, every repair is its own short transaction, and the next sweep starts afresh.
    deps.logger.warn(
      { error: error instanceof Error ? error.message : String(error) },
      "sweep stopped; the next one starts afresh",
    );
    return undefined;
  }
}
