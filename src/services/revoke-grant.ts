import { revokeStage } from "../domain/grant-machine.js";
import type { ServiceDeps } from "./deps.js";
import { type RevokeResult, revokeGrants } from "./revoke-grants.js";

export type { RevokeResult } from "./revoke-grants.js";

/**
 * Revokes one grant now (a sweep, the CLI, a revoke that could not be queued): `revokeGrants`
 * with a batch of one. Throws on connector failure, like a job attempt does.
 */
export async function performRevoke(
  deps: ServiceDeps,
  grantId: string,
  options: { finalAttempt: boolean },
): Promise<RevokeResult> {
  const outcomes = await revokeGrants(deps, [{ grantId, ...options }], { callsAtOnce: 1 });
  const outcome = outcomes.get(grantId)!;
  if (outcome.status === "rejected") throw outcome.reason;
  return outcome.value;
}

/** Whether the grant's revoke should run now: it is due, being revoked, or its revoke failed. */
export async function isRevokeDue(deps: ServiceDeps, grantId: string): Promise<boolean> {
  const grant = await deps.store.getGrant(grantId);
  const stage = grant ? revokeStage(grant, deps.now()) : "none";
  return stage !== "not_due" && stage !== "none";
}
