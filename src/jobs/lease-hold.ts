import type { Store } from "../services/ports.js";

/**
 * After a periodic run that finished (the sweep, the retention purge), its process keeps the
 * named lease until the run's interval is over instead of giving it back. Every other process's
 * timer finds the lease taken and skips, so the install runs the job once per interval however
 * many processes it has; given back at once, each of N processes would run it in every interval,
 * N runs in all (at 100,000 live grants a sweep reads every one of them). The holder waits for
 * its interval to end before it runs again (it could renew its own lease at any time). If it dies
 * or stops, the lease is free when its interval ends (or at once, given back by a stop), and the
 * others, which look more often than the interval, take it over: a run starts at most their look
 * period after the interval is over.
 */
export async function holdUntilNextRun(
  store: Pick<Store, "takeNamedLease" | "releaseNamedLease">,
  lease: { name: string; owner: string },
  run: { intervalSeconds: number; elapsedMs: number },
): Promise<void> {
  const rest = Math.floor(run.intervalSeconds - run.elapsedMs / 1000);
  if (rest >= 1) await store.takeNamedLease(lease.name, lease.owner, rest);
  else await store.releaseNamedLease(lease.name, lease.owner);
}

export interface OwnPace {
  /** A run of this process took the lease at `startedAt` (performance.now()): its next one waits an interval. */
  ran(startedAt: number): void;
  stop(): void;
}

/**
 * The timer of a job run under a held lease: it looks every `lookEveryMs` (so a lease given back
 * or run out is taken over within that) and calls `run` once this process's own interval since
 * its last run is over. Half a look early counts as due: a run starts a round trip after its look,
 * and the look one interval later must not miss it by those milliseconds. On the monotonic clock:
 * a wall clock stepped back must not postpone the runs.
 */
export function startOwnPace(run: () => void, options: { intervalMs: number; lookEveryMs: number }): OwnPace {
  let nextOwnRunAt = Number.NEGATIVE_INFINITY;
  const timer = setInterval(() => {
    if (performance.now() >= nextOwnRunAt - options.lookEveryMs / 2) run();
  }, options.lookEveryMs);
  timer.unref();
  return {
    ran(startedAt) {
      nextOwnRunAt = startedAt + options.intervalMs;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
