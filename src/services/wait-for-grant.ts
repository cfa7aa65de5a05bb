import { AppError } from "../domain/errors.js";
import type { GrantRow, GrantStatus } from "../domain/grant.js";
import { canStillBecome } from "../domain/grant-status-graph.js";
import { canSeeGrant } from "../domain/visibility.js";
import type { ServiceDeps } from "./deps.js";

/**
 * A read of a grant that waits, up to `waitMs`, for its status to become one of `until`: what a CI
 * job or a script asks instead of polling. It answers the grant as it stands as soon as the
 * status is reached, can no longer be reached (the grant machine says which statuses lead where),
 * the time is up, the caller hangs up, or the process stops. A change committed in any process
 * wakes it (`grantWaits`); in case that notice is lost, it reads the grant again every RECHECK_MS
 * anyway.
 */

const RECHECK_MS = 5_000;

type Deps = Pick<ServiceDeps, "store" | "policy" | "grantWaits">;

export async function visibleGrant(deps: Pick<Deps, "store" | "policy">, id: string, me: string): Promise<GrantRow> {
  return seenBy(deps, await deps.store.getGrant(id), id, me);
}

function seenBy(deps: Pick<Deps, "policy">, grant: GrantRow | null, id: string, me: string): GrantRow {
  if (!grant || !canSeeGrant(grant, me, deps.policy().isAdmin(me)))
    throw new AppError("not_found", `There is no grant ${id} that you can see.`);
  return grant;
}

export async function waitForGrant(
  deps: Deps,
  input: { grantId: string; actorId: string; until: readonly GrantStatus[]; waitMs: number; signal: AbortSignal },
): Promise<GrantRow> {
  // A monotonic clock: a wall clock stepped meanwhile must not stretch or cut the wait.
  const deadline = performance.now() + input.waitMs;
  // The grant as a change committed in this process saved it: no need to read it again.
  let saved: GrantRow | undefined;
  for (;;) {
    // Listening before reading: a change committed between the read and the wait still wakes it.
    const change = deps.grantWaits?.nextChange(input.grantId, input.signal);
    try {
      const grant = saved
        ? seenBy(deps, saved, input.grantId, input.actorId)
        : await visibleGrant(deps, input.grantId, input.actorId);
      // Woken while reading: the row it was woken with may be older or newer than the read, and
      // nothing listened meanwhile, so the next round reads rather than trusting that row.
      const wokenWhileReading = change?.woken === true;
      const left = deadline - performance.now();
      const settled =
        input.until.includes(grant.status) || !input.until.some((wanted) => canStillBecome(grant.status, wanted));
      if (settled || left <= 0 || input.signal.aborted || deps.grantWaits?.stopping) return grant;
      // Without a place among the waiters (too many already), the timer alone wakes it.
      const woke = await pause(Math.min(left, RECHECK_MS), change?.changed, input.signal);
      saved = !wokenWhileReading && woke && woke.version > grant.version ? woke : undefined;
    } finally {
      // Ends this round's wait whichever way the round ended.
      change?.cancel();
    }
  }
}

/**
 * Settles after `ms` (undefined), when `wake` settles (with what it gave), or at once when `signal`
 * aborts (undefined); leaves no timer or listener behind. (Plain callbacks: an AbortController per
 * round, aborted at its end, cost more CPU than the rest of a wait, most of it building the
 * abort's DOMException.)
 */
function pause(
  ms: number,
  wake: Promise<GrantRow | undefined> | undefined,
  signal: AbortSignal,
): Promise<GrantRow | undefined> {
  return new Promise((resolve) => {
    const done = (grant?: GrantRow) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(grant);
    };
    const onAbort = () => done();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", onAbort, { once: true });
    void wake?.then(done);
  });
}
