import type { GrantRow } from "../domain/grant.js";
import { transitionGrant } from "../domain/grant-machine.js";
import { usingClaims } from "./claims-in-use.js";
import { recordConnectorFailure } from "./connector-failure.js";
import type { ServiceDeps } from "./deps.js";
import { runAfterCommit, saveGrant } from "./effects.js";
import { claimEntitlement, releaseEntitlement } from "./entitlement-lease.js";
import { removeAccess } from "./revoke-access.js";

/**
 * Undoes a grant that failed for good: the connector may have applied part of it. Done once it
 * succeeds (`revokedAt` set on the failed grant); until then the sweeper tries again. Same shape as
 * a revoke: claim (commit) → connector → record (commit).
 */
export function undoFailedGrant(deps: ServiceDeps, grantId: string): Promise<void> {
  return usingClaims(deps.instanceId, [grantId], () => undo(deps, grantId));
}

async function undo(deps: ServiceDeps, grantId: string): Promise<void> {
  const claim = await deps.store.transaction(async (uow) => {
    const grant = await uow.lockGrant(grantId);
    if (grant?.status !== "grant_failed" || grant.revokedAt) return null;
    await claimEntitlement(deps, uow, grant, "cleanup");
    const retained = (await uow.countOtherActiveHolders(grant.entitlementKey, grant.id)) > 0;
    return { grant, retained };
  });
  if (!claim) return;
  try {
    if (!claim.retained) await removeAccess(deps, claim.grant);
  } catch (error) {
    await recordConnectorFailure(deps, grantId, "cleanup", error, false);
    throw error;
  }
  const recorded = await deps.store.transaction(async (uow) => {
    const grant: GrantRow | null = await uow.lockGrant(grantId);
    if (!grant) return null;
    await releaseEntitlement(deps, uow, grant);
    if (grant.status !== "grant_failed" || grant.revokedAt) return null;
    const transition = transitionGrant(
      grant,
      { type: "cleaned_up", retainedByOtherGrants: claim.retained },
      deps.now(),
    );
    return saveGrant(deps, uow, grant, transition);
  });
  if (recorded) await runAfterCommit(deps, recorded.after, recorded.saved);
}
