import { AppError, isAppError } from "../domain/errors.js";
import type { GrantRow } from "../domain/grant.js";
import { LEASE_SECONDS, type ServiceDeps } from "./deps.js";
import type { EntitlementClaim, UnitOfWork } from "./ports.js";

/**
 * Connector calls on one entitlement never overlap: before a call, its grant claims the
 * entitlement with a lease that commits before the call starts; the outcome's transaction gives it
 * back. No transaction or row lock is held across the call itself.
 */
export async function claimEntitlement(
  deps: ServiceDeps,
  uow: UnitOfWork,
  grant: GrantRow,
  operation: EntitlementClaim["operation"],
): Promise<void> {
  const claimed = await uow.claimEntitlement({
    key: grant.entitlementKey,
    grantId: grant.id,
    operation,
    owner: deps.instanceId,
    ttlSeconds: LEASE_SECONDS,
  });
  if (!claimed) throw entitlementBusy(grant, operation);
}

/** Another call on the same entitlement holds its lease: the job retries shortly. */
export function entitlementBusy(grant: GrantRow, operation: EntitlementClaim["operation"]): AppError {
  return new AppError(
    "conflict",
    `Another grant or revoke of the same access (${grant.principal} through ${grant.connectorName}) is under way; this ${operation} is tried again shortly.`,
    { details: { retryable: true } },
  );
}

/** The error entitlementBusy made: the work is someone else's for now, not failing. */
export function isEntitlementBusy(error: unknown): boolean {
  return isAppError(error) && error.details?.retryable === true;
}

export function releaseEntitlement(deps: ServiceDeps, uow: UnitOfWork, grant: GrantRow): Promise<void> {
  return uow.releaseEntitlement(grant.entitlementKey, grant.id, deps.instanceId);
}
