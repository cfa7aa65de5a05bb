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
