import type { Store } from "../services/ports.js";

/**
 * After a periodic run that finished (the sweep, the retention purge), its process keeps the
 * named lease until the run's interval is over instead of giving it back. Every other process's
 * timer finds the lease taken and skips, so the install runs the job once per interval however
 * many processes it has; given back at once, each of N processes would run it in every interval,
 * N runs in all (at 100,000 live grants a sweep reads every one of them). The holder's own next
 * tick renews the lease, as its owner. If the holder dies, the lease runs out when its interval
 * would have, and the next process to tick runs the job: the interval is still the bound.
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
