import type { AfterCommitEffect } from "../domain/effects.js";
import type { GrantRow, GrantStatus } from "../domain/grant.js";
import { canApply, type GrantTransition, revokeStage, transitionGrant } from "../domain/grant-machine.js";
import { forEachAtMost } from "./at-most.js";
import { recordConnectorFailure } from "./connector-failure.js";
import { LEASE_SECONDS, type ServiceDeps } from "./deps.js";
import { runAfterCommit, type Saved, saveGrants } from "./effects.js";
import { entitlementBusy } from "./entitlement-lease.js";
import type { UnitOfWork } from "./ports.js";
import { removeAccess } from "./revoke-access.js";

export type RevokeResult =
  | { kind: "revoked"; grant: GrantRow; retainedByOtherGrants: boolean }
  | { kind: "not_due"; expiresAt: Date }
  | { kind: "skipped"; status: GrantStatus | "missing" };

export interface RevokeRequest {
  grantId: string;
  /** The job's last attempt: a failure now marks the grant revoke_failed and pages. */
  finalAttempt: boolean;
}

interface Committed {
  saved: Saved;
  after: AfterCommitEffect[];
}

/** What the claim decided for one grant. */
type Claim =
  | { kind: "call"; grant: GrantRow }
  | { kind: "done"; committed: Committed }
  | { kind: "busy"; error: Error }
  | Exclude<RevokeResult, { kind: "revoked" }>;

/**
 * Takes the access away, once, for many grants at a time in a few round trips per batch: claim
 * the entitlements and move the grants to revoking (one commit) → each connector's revoke and its
 * check (at most `callsAtOnce` at once, no transaction open) → record them revoked (one commit). A
 * grant whose entitlement another active grant still holds is not called: that grant's own revoke
 * removes it (invariant 6). An active grant is revoked only once its expiry has passed. A failed
 * call is recorded (the last attempt marks it revoke_failed and pages) and its outcome rejected,
 * so its job retries; a crash between the steps leaves revoking grants whose leases run out, which
 * the sweeper then finishes. The outcome of each request is keyed by grant id.
 */
export async function revokeGrants(
  deps: ServiceDeps,
  requests: readonly RevokeRequest[],
  options: { callsAtOnce: number },
): Promise<Map<string, PromiseSettledResult<RevokeResult>>> {
  const outcomes = new Map<string, PromiseSettledResult<RevokeResult>>();
  const settle = (grantId: string, value: RevokeResult) => outcomes.set(grantId, { status: "fulfilled", value });
  const fail = (grantId: string, reason: unknown) => outcomes.set(grantId, { status: "rejected", reason });
  const finalAttempt = new Map(requests.map((request) => [request.grantId, request.finalAttempt]));
  const claims = await deps.store.transaction((uow) => claimRevokes(deps, uow, [...finalAttempt.keys()]));

  const calls: GrantRow[] = [];
  const committed: Committed[] = [];
  for (const [grantId, claim] of claims) {
    if (claim.kind === "call") calls.push(claim.grant);
    else if (claim.kind === "busy") fail(grantId, claim.error);
    else if (claim.kind === "done") {
      committed.push(claim.committed);
      settle(grantId, { kind: "revoked", grant: claim.committed.saved.grant!, retainedByOtherGrants: true });
    } else settle(grantId, claim);
  }
  const removed: GrantRow[] = [];
  await forEachAtMost(calls, options.callsAtOnce, async (grant) => {
    try {
      await removeAccess(deps, grant);
      removed.push(grant);
    } catch (error) {
      fail(grant.id, error);
      await recordConnectorFailure(deps, grant.id, "revoke", error, finalAttempt.get(grant.id) ?? false);
    }
  });
  if (removed.length > 0) {
    const recorded = await deps.store.transaction((uow) => recordRevoked(deps, uow, removed));
    for (const grant of removed) {
      const result = recorded.get(grant.id);
      if (result && typeof result === "object") {
        committed.push(result);
        settle(grant.id, { kind: "revoked", grant: result.saved.grant!, retainedByOtherGrants: false });
      } else settle(grant.id, { kind: "skipped", status: result ?? "missing" });
    }
  }
  await Promise.all(committed.map(({ after, saved }) => runAfterCommit(deps, after, saved)));
  return outcomes;
}

const leaseOf = (deps: ServiceDeps, grant: GrantRow) => ({
  key: grant.entitlementKey,
  grantId: grant.id,
  owner: deps.instanceId,
});

/** Locks the grants, claims their entitlements and saves what the grant machine decides, in one transaction. */
async function claimRevokes(deps: ServiceDeps, uow: UnitOfWork, grantIds: string[]): Promise<Map<string, Claim>> {
  const now = deps.now();
  const claims = new Map<string, Claim>();
  const locked = new Map((await uow.lockGrants(grantIds)).map((grant) => [grant.id, grant]));
  const candidates: GrantRow[] = [];
  const keys = new Set<string>();
  for (const grantId of grantIds) {
    const grant = locked.get(grantId);
    const stage = grant ? revokeStage(grant, now) : "none";
    if (!grant) claims.set(grantId, { kind: "skipped", status: "missing" });
    else if (stage === "none") claims.set(grantId, { kind: "skipped", status: grant.status });
    else if (stage === "not_due") claims.set(grantId, { kind: "not_due", expiresAt: grant.expiresAt });
    // One call per entitlement at a time: a second grant of it in this batch is tried again shortly.
    else if (keys.has(grant.entitlementKey))
      claims.set(grantId, { kind: "busy", error: entitlementBusy(grant, "revoke") });
    else {
      keys.add(grant.entitlementKey);
      candidates.push(grant);
    }
  }
  const taken = await uow.claimEntitlements(
    candidates.map((grant) => ({ ...leaseOf(deps, grant), operation: "revoke", ttlSeconds: LEASE_SECONDS })),
  );
  const mine = candidates.filter((grant) => {
    if (!taken.has(grant.id)) claims.set(grant.id, { kind: "busy", error: entitlementBusy(grant, "revoke") });
    return taken.has(grant.id);
  });
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
    const revoking = { ...grant, ...begun?.patch };
    const done = transitionGrant(revoking, { type: "revoked", retainedByOtherGrants: true }, now);
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

/** Gives back the leases and records the grants revoked; for each grant, what was saved or why nothing was. */
async function recordRevoked(
  deps: ServiceDeps,
  uow: UnitOfWork,
  removed: GrantRow[],
): Promise<Map<string, Committed | GrantStatus>> {
  const now = deps.now();
  const locked = await uow.lockGrants(removed.map((grant) => grant.id));
  await uow.releaseEntitlements(locked.map((grant) => leaseOf(deps, grant)));
  const results = new Map<string, Committed | GrantStatus>(locked.map((grant) => [grant.id, grant.status]));
  const revocable = locked.filter((grant) => canApply(grant, "revoked"));
  const saved = await saveGrants(
    deps,
    uow,
    revocable.map((grant) => ({
      grant,
      transition: transitionGrant(grant, { type: "revoked", retainedByOtherGrants: false }, now),
    })),
  );
  for (const [index, grant] of revocable.entries()) results.set(grant.id, saved[index]!);
  return results;
}
