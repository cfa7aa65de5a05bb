import { AppError } from "../domain/errors.js";
import type { GrantRow, RevokeCause } from "../domain/grant.js";
import { NO_CHANGE, transitionGrant } from "../domain/grant-machine.js";
import type { ServiceDeps } from "./deps.js";
import { runAfterCommit, saveGrant } from "./effects.js";

/**
 * Asks for a revoke now (relinquish, admin revoke, a cancelled request): the grant moves to
 * revoking and its revoke job is due at once; when Redis cannot take the job, the revoke runs
 * right here. Asking again while a revoke is under way changes nothing.
 */
export async function requestRevoke(
  deps: ServiceDeps,
  input: { grantId: string; actorId: string; cause: Exclude<RevokeCause, "expired">; reason?: string },
  /** Throws when the actor may not do this to the grant (checked on the locked row). */
  authorize: (grant: GrantRow) => void = () => undefined,
): Promise<GrantRow> {
  const outcome = await deps.store.transaction(async (uow) => {
    const grant = await uow.lockGrant(input.grantId);
    if (!grant) throw new AppError("not_found", `There is no grant ${input.grantId}.`);
    authorize(grant);
    const transition = transitionGrant(
      grant,
      { type: "revoke", cause: input.cause, actorId: input.actorId, ...(input.reason ? { reason: input.reason } : {}) },
      deps.now(),
    );
    if (transition === NO_CHANGE) return { grant, committed: null };
    const committed = await saveGrant(deps, uow, grant, transition);
    return { grant: committed.saved.grant!, committed };
  });
  if (outcome.committed) await runAfterCommit(deps, outcome.committed.after, outcome.committed.saved);
  return outcome.grant;
}
