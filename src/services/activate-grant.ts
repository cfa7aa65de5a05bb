import type { GrantReceipt } from "../connectors/connector.js";
import type { GrantRow } from "../domain/grant.js";
import { expiryFrom, statusesAllowing, transitionGrant } from "../domain/grant-machine.js";
import { usingClaims } from "./claims-in-use.js";
import { recordConnectorFailure } from "./connector-failure.js";
import { LEASE_SECONDS, type ServiceDeps } from "./deps.js";
import { runAfterCommit, saveGrant } from "./effects.js";
import { entitlementBusy, releaseEntitlement } from "./entitlement-lease.js";

export type ActivationResult = { kind: "activated"; grant: GrantRow } | { kind: "skipped" };

/**
 * Grants the access through the connector in three steps, none holding a transaction across the
 * call: claim the entitlement (one statement) → connector.grant → record the outcome (commit). A crash in
 * between leaves a scheduled grant whose lease runs out; the sweeper then activates it again (the
 * connector is idempotent per grant id). Throws on connector failure so the job retries; the last
 * attempt marks the grant failed.
 */
export function activateGrant(
  deps: ServiceDeps,
  grantId: string,
  options: { finalAttempt: boolean },
): Promise<ActivationResult> {
  return usingClaims(deps.instanceId, [grantId], () => activate(deps, grantId, options));
}

async function activate(
  deps: ServiceDeps,
  grantId: string,
  options: { finalAttempt: boolean },
): Promise<ActivationResult> {
  const claim = await deps.store.claimGrantForCall(grantId, statusesAllowing("activated"), {
    operation: "grant",
    owner: deps.instanceId,
    ttlSeconds: LEASE_SECONDS,
  });
  if (!claim) return { kind: "skipped" };
  if (!claim.claimed) throw entitlementBusy(claim.grant, "grant");
  const claimed = claim.grant;

  const activatedAt = deps.now();
  let receipt: GrantReceipt;
  try {
    receipt = await deps.connectors.get(claimed.connectorName).grant({
      grantId,
      principal: claimed.principal,
      target: claimed.target,
      expiresAt: expiryFrom(claimed, activatedAt),
      ...(claim.unfinishedBefore ? { unfinishedCallBefore: true } : {}),
    });
  } catch (error) {
    await recordConnectorFailure(deps, grantId, "grant", error, options.finalAttempt);
    throw error;
  }

  const recorded = await deps.store.transaction(async (uow) => {
    const grant = await uow.lockGrant(grantId);
    if (!grant) return null;
    await releaseEntitlement(deps, uow, grant);
    // Revoked while the connector was granting: the revoke (which waited for this lease) takes it back.
    if (grant.status !== "scheduled") return null;
    const sealedSecret = receipt.secret ? deps.secrets.seal(receipt.secret) : null;
    const transition = transitionGrant(
      grant,
      { type: "activated", activatedAt, receipt: receipt.data, sealedSecret },
      deps.now(),
    );
    return saveGrant(deps, uow, grant, transition);
  });
  if (!recorded) return { kind: "skipped" };
  await runAfterCommit(deps, recorded.after, recorded.saved);
  return { kind: "activated", grant: recorded.saved.grant! };
}
