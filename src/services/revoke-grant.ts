import { AppError } from "../domain/errors.js";
import { type GrantStatus, transitionGrant } from "../domain/grant-machine.js";
import { recordConnectorFailure, safeErrorText } from "./connector-failure.js";
import { afterCommit, CONNECTOR_TRANSACTION_MS, type ServiceDeps } from "./deps.js";
import type { GrantRow, UnitOfWork } from "./ports.js";

export type RevokeResult =
  | { kind: "revoked"; grant: GrantRow; retainedByOtherGrants: boolean }
  | { kind: "not_due"; expiresAt: Date }
  | { kind: "skipped"; status: GrantStatus | "missing" };

const REVOCABLE: readonly GrantStatus[] = ["active", "revoking", "revoke_failed"];

/**
 * Takes the access away through the connector, once, under the entitlement lock. If another
 * active grant holds the same entitlement, the connector is not called: that grant's own revoke
 * will remove it (invariant 6). An `active` grant is revoked only once its expiry has passed.
 * Throws on connector failure so the job retries; the last attempt marks it revoke_failed.
 */
export async function performRevoke(
  deps: ServiceDeps,
  grantId: string,
  options: { finalAttempt: boolean },
): Promise<RevokeResult> {
  let result: RevokeResult;
  try {
    result = await deps.store.transaction(async (uow) => revokeLocked(deps, uow, grantId), {
      timeoutMs: CONNECTOR_TRANSACTION_MS,
    });
  } catch (error) {
    await recordConnectorFailure(deps, grantId, "revoke", error, options.finalAttempt);
    throw error;
  }
  if (result.kind === "revoked") {
    const grant = result.grant;
    await afterCommit(deps, "notify", () => deps.notifier.publish({ type: "grant.revoked", grant }));
  }
  return result;
}

async function revokeLocked(deps: ServiceDeps, uow: UnitOfWork, grantId: string): Promise<RevokeResult> {
  let grant = await uow.lockGrantAndEntitlement(grantId);
  if (!grant) return { kind: "skipped", status: "missing" };
  const now = deps.now();
  if (!REVOCABLE.includes(grant.status)) return { kind: "skipped", status: grant.status };
  if (grant.status === "active" && grant.expiresAt > now) return { kind: "not_due", expiresAt: grant.expiresAt };
  if (grant.status !== "revoking") {
    // An active grant got here by expiring; a revoke_failed one is being retried.
    await moveTo(uow, grant, "revoking", {
      revokeReason: grant.revokeReason ?? (grant.status === "active" ? "expired" : "retry"),
    });
    grant = (await uow.getGrant(grantId))!;
  }
  const holders = await uow.countOtherActiveHolders(grant.entitlementKey, grant.id);
  if (holders === 0) await removeAccess(deps, grant);
  await moveTo(uow, grant, "revoked", { revokedAt: now, lastError: null, attempts: grant.attempts + 1 });
  await uow.appendAudit({
    type: "grant.revoked",
    actorId: grant.revokedById,
    requestId: grant.requestId,
    grantId,
    data: { principal: grant.principal, reason: grant.revokeReason, retainedByOtherGrants: holders > 0 },
  });
  return { kind: "revoked", grant: (await uow.getGrant(grantId))!, retainedByOtherGrants: holders > 0 };
}

async function removeAccess(deps: ServiceDeps, grant: GrantRow): Promise<void> {
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

async function moveTo(
  uow: UnitOfWork,
  grant: GrantRow,
  status: GrantStatus,
  patch: Parameters<UnitOfWork["updateGrant"]>[2],
): Promise<void> {
  if (!(await uow.updateGrant(grant.id, grant.version, { ...patch, status }))) {
    throw new AppError("conflict", "The grant changed while it was being revoked; the revoke will be retried.");
  }
}

/**
 * Undoes a grant that failed for good: the connector may have applied part of it. Done once it
 * succeeds (`revokedAt` set on the failed grant); until then the sweeper tries again.
 */
export async function undoFailedGrant(deps: ServiceDeps, grantId: string): Promise<void> {
  try {
    await deps.store.transaction(
      async (uow) => {
        const grant = await uow.lockGrantAndEntitlement(grantId);
        if (grant?.status !== "grant_failed" || grant.revokedAt) return;
        if ((await uow.countOtherActiveHolders(grant.entitlementKey, grant.id)) === 0) await removeAccess(deps, grant);
        await uow.updateGrant(grant.id, grant.version, { revokedAt: deps.now() });
        await uow.appendAudit({
          type: "grant.failed_cleanup",
          grantId,
          requestId: grant.requestId,
          data: { principal: grant.principal },
        });
      },
      { timeoutMs: CONNECTOR_TRANSACTION_MS },
    );
  } catch (error) {
    await deps.store.transaction(async (uow) => {
      const grant = await uow.lockGrant(grantId);
      if (grant)
        await uow.updateGrant(grant.id, grant.version, {
          attempts: grant.attempts + 1,
          lastError: `cleanup after the failed grant: ${safeErrorText(error)}`,
        });
    });
    throw error;
  }
}

/** Asks for a revoke now (relinquish, admin revoke): the revoke job does the work. */
export async function requestRevoke(
  deps: ServiceDeps,
  input: { grantId: string; actorId: string; cause: "relinquished" | "admin"; reason?: string },
): Promise<GrantRow> {
  const grant = await deps.store.transaction(async (uow) => {
    const current = await uow.lockGrant(input.grantId);
    if (!current) throw new AppError("not_found", `There is no grant ${input.grantId}.`);
    if (current.status === "revoked" || current.status === "revoking") return current;
    const next = transitionGrant(current, { type: "revoke", cause: input.cause }, deps.now());
    const revokeReason = input.reason ? `${input.cause}: ${input.reason}` : input.cause;
    await moveTo(uow, current, next.status, { revokeReason, revokedById: input.actorId });
    await uow.appendAudit({
      type: "grant.revoke_requested",
      actorId: input.actorId,
      requestId: current.requestId,
      grantId: current.id,
      data: { cause: input.cause, reason: input.reason ?? null },
    });
    return (await uow.getGrant(current.id))!;
  });
  if (grant.status === "revoking")
    await afterCommit(deps, "enqueue revoke", () => deps.jobs.scheduleRevoke(grant.id, deps.now()));
  return grant;
}
