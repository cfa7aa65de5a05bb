import { AppError } from "../domain/errors.js";
import type { GrantRow, GrantStatus } from "../domain/grant.js";
import { canApply, revokeStage, transitionGrant } from "../domain/grant-machine.js";
import { recordConnectorFailure } from "./connector-failure.js";
import type { ServiceDeps } from "./deps.js";
import { runAfterCommit, saveGrant } from "./effects.js";
import { claimEntitlement, releaseEntitlement } from "./entitlement-lease.js";

export type RevokeResult =
  | { kind: "revoked"; grant: GrantRow; retainedByOtherGrants: boolean }
  | { kind: "not_due"; expiresAt: Date }
  | { kind: "skipped"; status: GrantStatus | "missing" };

type Claim =
  | { kind: "call"; grant: GrantRow }
  | { kind: "done"; committed: Awaited<ReturnType<typeof saveGrant>> }
  | Exclude<RevokeResult, { kind: "revoked" }>;

/**
 * Takes the access away, once: claim the entitlement and move to revoking (commit) → the
 * connector's revoke and its check → record revoked (commit). If another active grant holds the
 * same entitlement, the connector is not called: that grant's own revoke removes it (invariant 6).
 * An active grant is revoked only once its expiry has passed. Throws on connector failure so the job
 * retries; the last attempt marks it revoke_failed. A crash between the steps leaves a revoking
 * grant whose lease runs out; the sweeper then finishes it.
 */
export async function performRevoke(
  deps: ServiceDeps,
  grantId: string,
  options: { finalAttempt: boolean },
): Promise<RevokeResult> {
  const claim = await deps.store.transaction(async (uow): Promise<Claim> => {
    const grant = await uow.lockGrant(grantId);
    if (!grant) return { kind: "skipped", status: "missing" };
    const stage = revokeStage(grant, deps.now());
    if (stage === "none") return { kind: "skipped", status: grant.status };
    if (stage === "not_due") return { kind: "not_due", expiresAt: grant.expiresAt };
    await claimEntitlement(deps, uow, grant, "revoke");
    let revoking = grant;
    if (stage === "begin") {
      const begun = await saveGrant(
        deps,
        uow,
        grant,
        transitionGrant(grant, { type: "revoke", cause: "expired" }, deps.now()),
      );
      revoking = begun.saved.grant!;
    }
    if ((await uow.countOtherActiveHolders(revoking.entitlementKey, revoking.id)) === 0)
      return { kind: "call", grant: revoking };
    await releaseEntitlement(deps, uow, revoking);
    const transition = transitionGrant(revoking, { type: "revoked", retainedByOtherGrants: true }, deps.now());
    return { kind: "done", committed: await saveGrant(deps, uow, revoking, transition) };
  });
  if (claim.kind === "skipped" || claim.kind === "not_due") return claim;
  if (claim.kind === "done") return finished(deps, claim.committed, true);

  try {
    await removeAccess(deps, claim.grant);
  } catch (error) {
    await recordConnectorFailure(deps, grantId, "revoke", error, options.finalAttempt);
    throw error;
  }
  const recorded = await deps.store.transaction(async (uow) => {
    const grant = await uow.lockGrant(grantId);
    if (!grant) return null;
    await releaseEntitlement(deps, uow, grant);
    if (!canApply(grant, "revoked")) return null;
    return saveGrant(
      deps,
      uow,
      grant,
      transitionGrant(grant, { type: "revoked", retainedByOtherGrants: false }, deps.now()),
    );
  });
  if (!recorded) return { kind: "skipped", status: (await deps.store.getGrant(grantId))?.status ?? "missing" };
  return finished(deps, recorded, false);
}

async function finished(
  deps: ServiceDeps,
  committed: Awaited<ReturnType<typeof saveGrant>>,
  retainedByOtherGrants: boolean,
): Promise<RevokeResult> {
  await runAfterCommit(deps, committed.after, committed.saved);
  return { kind: "revoked", grant: committed.saved.grant!, retainedByOtherGrants };
}

/** The connector's revoke, and its own check that the access is really gone where it can observe it. */
export async function removeAccess(deps: ServiceDeps, grant: GrantRow): Promise<void> {
  const connector = deps.connectors.get(grant.connectorName);
  const context = {
    grantId: grant.id,
    principal: grant.principal,
    target: grant.target,
    expiresAt: grant.expiresAt,
    receipt: grant.receipt,
  };
  await connector.revoke(context);
  if (connector.verifyRevoked && !(await connector.verifyRevoked(context))) {
    throw new AppError(
      "connector_failed",
      `The ${grant.connectorName} connector revoked ${grant.principal}, but the access is still there.`,
    );
  }
}
