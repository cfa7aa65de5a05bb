import type { AfterCommitEffect } from "../domain/effects.js";
import type { GrantRow, GrantStatus } from "../domain/grant.js";
import { type GrantTransition, revokeStage, transitionGrant } from "../domain/grant-machine.js";
import { LEASE_SECONDS, type ServiceDeps } from "./deps.js";
import { type Saved, saveGrants } from "./effects.js";
import { entitlementBusy } from "./entitlement-lease.js";
import type { UnitOfWork } from "./ports.js";

/** A saved change and what to do once it is committed. */
export interface Committed {
  saved: Saved;
  after: AfterCommitEffect[];
}

/** What the claim decided for one grant. */
export type RevokeClaim =
  /** Claimed and revoking: call the connector. */
  | { kind: "call"; grant: GrantRow }
  /** Revoked without a call: another active grant still holds the same access. */
  | { kind: "done"; committed: Committed }
  /** Its entitlement is claimed by someone else: try again shortly. */
  | { kind: "busy"; error: Error }
  | { kind: "not_due"; expiresAt: Date }
  | { kind: "skipped"; status: GrantStatus | "missing" };

export const leaseOf = (deps: ServiceDeps, grant: GrantRow) => ({
  key: grant.entitlementKey,
  grantId: grant.id,
  owner: deps.instanceId,
});

/**
 * The claim step of a batch of revokes, in the caller's transaction: locks the grants, claims
 * their entitlements (one call per entitlement at a time) and saves what the grant machine
 * decides: an expired grant begins revoking; one whose access another active grant still holds
 * (invariant 6) is revoked at once, without a call.
 */
export async function claimRevokes(
  deps: ServiceDeps,
  uow: UnitOfWork,
  grantIds: readonly string[],
): Promise<Map<string, RevokeClaim>> {
  const now = deps.now();
  const claims = new Map<string, RevokeClaim>();
  const busy = (grant: GrantRow) => claims.set(grant.id, { kind: "busy", error: entitlementBusy(grant, "revoke") });
  const locked = new Map((await uow.lockGrants(grantIds)).map((grant) => [grant.id, grant]));
  const candidates: GrantRow[] = [];
  const keys = new Set<string>();
  for (const grantId of grantIds) {
    const grant = locked.get(grantId);
    const stage = grant ? revokeStage(grant, now) : "none";
    if (!grant) claims.set(grantId, { kind: "skipped", status: "missing" });
    else if (stage === "none") claims.set(grantId, { kind: "skipped", status: grant.status });
    else if (stage === "not_due") claims.set(grantId, { kind: "not_due", expiresAt: grant.expiresAt });
    // A second grant of the same access in this batch waits for the next try.
    else if (keys.has(grant.entitlementKey)) busy(grant);
    else {
      keys.add(grant.entitlementKey);
      candidates.push(grant);
    }
  }
  const taken = await uow.claimEntitlements(
    candidates.map((grant) => ({ ...leaseOf(deps, grant), operation: "revoke", ttlSeconds: LEASE_SECONDS })),
  );
  const mine: GrantRow[] = [];
  for (const grant of candidates)
    if (taken.has(grant.id)) mine.push(grant);
    else busy(grant);
  const holders = await uow.countActiveHolders(mine.map((grant) => grant.entitlementKey));
  const changes: { grant: GrantRow; transition: GrantTransition; calls: boolean }[] = [];
  const retained: GrantRow[] = [];
  for (const grant of mine) {
    // Its own expiry moves an active grant to revoking; a relinquished or failed one is revoking already.
    const begun =
      revokeStage(grant, now) === "begin"
        ? transitionGrant(grant, { type: "revoke", cause: "expired" }, now)
        : undefined;
    const others = (holders.get(grant.entitlementKey) ?? 0) - (grant.status === "active" ? 1 : 0);
    if (others === 0) {
      if (begun) changes.push({ grant, transition: begun, calls: true });
      else claims.set(grant.id, { kind: "call", grant });
      continue;
    }
    const done = transitionGrant({ ...grant, ...begun?.patch }, { type: "revoked", retainedByOtherGrants: true }, now);
    const both = { patch: { ...begun?.patch, ...done.patch }, effects: [...(begun?.effects ?? []), ...done.effects] };
    changes.push({ grant, transition: both, calls: false });
    retained.push(grant);
  }
  await uow.releaseEntitlements(retained.map((grant) => leaseOf(deps, grant)));
  const saved = await saveGrants(deps, uow, changes);
  for (const [index, { grant, calls }] of changes.entries()) {
    const result = saved[index]!;
    claims.set(grant.id, calls ? { kind: "call", grant: result.saved.grant! } : { kind: "done", committed: result });
  }
  return claims;
}
