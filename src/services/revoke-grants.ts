import type { GrantRow, GrantStatus } from "../domain/grant.js";
import { forEachAtMost } from "./at-most.js";
import { usingClaims } from "./claims-in-use.js";
import { recordConnectorFailure } from "./connector-failure.js";
import type { ServiceDeps } from "./deps.js";
import { runAfterCommit } from "./effects.js";
import { removeAccess } from "./revoke-access.js";
import { type Committed, claimRevokes } from "./revoke-claims.js";
import { createRevokeRecorder } from "./revoke-recorder.js";

export type RevokeResult =
  | { kind: "revoked"; grant: GrantRow; retainedByOtherGrants: boolean }
  | { kind: "not_due"; expiresAt: Date }
  | { kind: "skipped"; status: GrantStatus | "missing" };

export interface RevokeRequest {
  grantId: string;
  /** The job's last attempt: a failure now marks the grant revoke_failed and pages. */
  finalAttempt: boolean;
}

export type RevokeOutcome = PromiseSettledResult<RevokeResult>;

export interface RevokeOptions {
  callsAtOnce: number;
  /** Called once the claim committed: from then on the batch only waits on targets and its records. */
  claimed?: () => void;
  /** Called with each grant's outcome as soon as it is known, before the slowest call of the batch ends. */
  settled?: (grantId: string, outcome: RevokeOutcome) => void;
}

/**
 * Takes the access away, once, for many grants at a time in a few round trips per batch: claim
 * the entitlements and move the grants to revoking (one commit, revoke-claims.ts) → each
 * connector's revoke and its check (at most `callsAtOnce` at once, no transaction open) → record
 * them revoked as they finish (revoke-recorder.ts). A grant whose access another active grant
 * still holds is not called: that grant's own revoke removes it (invariant 6). An active grant is
 * revoked only once its expiry has passed. A failed call is recorded (the last attempt marks it
 * revoke_failed and pages) and its outcome rejected, so its job retries; a crash between the
 * steps leaves revoking grants whose leases run out, which the sweeper then finishes. Returns
 * every grant's outcome.
 */
export function revokeGrants(
  deps: ServiceDeps,
  requests: readonly RevokeRequest[],
  options: RevokeOptions,
): Promise<Map<string, RevokeOutcome>> {
  const grantIds = requests.map((request) => request.grantId);
  return usingClaims(deps.instanceId, grantIds, () => revokeBatch(deps, requests, options));
}

async function revokeBatch(
  deps: ServiceDeps,
  requests: readonly RevokeRequest[],
  options: RevokeOptions,
): Promise<Map<string, RevokeOutcome>> {
  const outcomes = new Map<string, RevokeOutcome>();
  const settle = (grantId: string, outcome: RevokeOutcome) => {
    outcomes.set(grantId, outcome);
    options.settled?.(grantId, outcome);
  };
  const done = (grantId: string, value: RevokeResult) => settle(grantId, { status: "fulfilled", value });
  const failed = (grantId: string, reason: unknown) => settle(grantId, { status: "rejected", reason });
  const finalAttempt = new Map(requests.map((request) => [request.grantId, request.finalAttempt]));
  const claims = await deps.store.transaction((uow) => claimRevokes(deps, uow, [...finalAttempt.keys()]));
  options.claimed?.();

  const calls: GrantRow[] = [];
  const retained: Committed[] = [];
  for (const [grantId, claim] of claims) {
    if (claim.kind === "call") calls.push(claim.grant);
    else if (claim.kind === "done") retained.push(claim.committed);
    else if (claim.kind === "busy") failed(grantId, claim.error);
    else done(grantId, claim);
  }
  const recorder = createRevokeRecorder(deps);
  const revokeRetained = Promise.all(
    retained.map(async ({ after, saved }) => {
      await runAfterCommit(deps, after, saved);
      done(saved.grant!.id, { kind: "revoked", grant: saved.grant!, retainedByOtherGrants: true });
    }),
  );
  const callTargets = forEachAtMost(calls, options.callsAtOnce, async (grant) => {
    try {
      await removeAccess(deps, grant);
    } catch (error) {
      await recordConnectorFailure(deps, grant.id, "revoke", error, finalAttempt.get(grant.id) ?? false).catch(
        () => undefined,
      );
      failed(grant.id, error);
      return;
    }
    try {
      const recorded = await recorder.record(grant);
      if (typeof recorded !== "object") return done(grant.id, { kind: "skipped", status: recorded });
      await runAfterCommit(deps, recorded.after, recorded.saved);
      done(grant.id, { kind: "revoked", grant: recorded.saved.grant!, retainedByOtherGrants: false });
    } catch (error) {
      // The access is gone but the database did not take the record: a retry (or the sweeper,
      // once the unused claim ran out) revokes again, which connectors accept, and records it.
      failed(grant.id, error);
    }
  });
  await Promise.all([revokeRetained, callTargets]);
  return outcomes;
}
