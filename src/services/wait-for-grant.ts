import { AppError } from "../domain/errors.js";
import type { GrantRow, GrantStatus } from "../domain/grant.js";
import { isFinalGrantStatus } from "../domain/grant-machine.js";
import { canSeeGrant } from "../domain/visibility.js";
import type { ServiceDeps } from "./deps.js";
import { TooManyWaiters } from "./grant-waits.js";

/**
 * A read of a grant that waits, up to `waitMs`, for its status to become one of `until`: what a CI
 * job or a script asks instead of polling. It answers the grant as it stands as soon as the
 * status is reached, can no longer be reached (revoked, grant_failed), the time is up, or the
 * caller hangs up. A change committed in any process wakes it (`grantWaits`); in case that notice
 * is lost, it reads the grant again every RECHECK_MS anyway.
 */

const RECHECK_MS = 5_000;

type Deps = Pick<ServiceDeps, "store" | "policy" | "grantWaits" | "now">;

export async function visibleGrant(deps: Pick<Deps, "store" | "policy">, id: string, me: string): Promise<GrantRow> {
  const grant = await deps.store.getGrant(id);
  if (!grant || !canSeeGrant(grant, me, deps.policy().isAdmin(me)))
    throw new AppError("not_found", `There is no grant ${id} that you can see.`);
  return grant;
}

export async function waitForGrant(
  deps: Deps,
  input: { grantId: string; actorId: string; until: readonly GrantStatus[]; waitMs: number; signal: AbortSignal },
): Promise<GrantRow> {
  const deadline = deps.now().getTime() + input.waitMs;
  for (;;) {
    // Ends this round's wait and timer whichever way the round ends.
    const stop = new AbortController();
    const both = AbortSignal.any([input.signal, stop.signal]);
    try {
      // Listening before reading: a change committed between the read and the wait still wakes it.
      const changed = deps.grantWaits?.nextChange(input.grantId, both).then(
        () => true,
        (error: unknown) => {
          if (error instanceof TooManyWaiters) return false;
          throw error;
        },
      );
      const grant = await visibleGrant(deps, input.grantId, input.actorId);
      const left = deadline - deps.now().getTime();
      if (input.until.includes(grant.status) || isFinalGrantStatus(grant.status) || left <= 0 || both.aborted)
        return grant;
      const recheck = pause(Math.min(left, RECHECK_MS), both);
      // Without a place among the waiters (too many already), the answer is the grant as it stands.
      if ((await Promise.race([changed ?? recheck, recheck])) === false) return grant;
    } finally {
      stop.abort();
    }
  }
}

/** Settles with true after `ms`, or at once when `signal` aborts; leaves no timer behind. */
function pause(ms: number, signal: AbortSignal): Promise<true> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve(true);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
