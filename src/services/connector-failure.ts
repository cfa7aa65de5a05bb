import { isAppError } from "../domain/errors.js";
import { transitionGrant } from "../domain/grant-machine.js";
import { afterCommit, type ServiceDeps } from "./deps.js";
import { undoFailedGrant } from "./revoke-grant.js";

/** Text safe to store and show: connectors put redacted, actionable text in AppError.userMessage. */
export function safeErrorText(error: unknown): string {
  if (isAppError(error)) return error.userMessage;
  return "the connector failed with an unexpected error; see the worker log";
}

/**
 * Records a failed grant or revoke attempt. On the last attempt the grant moves to its failed
 * state and an alert is raised; a failed grant is also undone where nobody else holds the access.
 */
export async function recordConnectorFailure(
  deps: ServiceDeps,
  grantId: string,
  operation: "grant" | "revoke",
  error: unknown,
  finalAttempt: boolean,
): Promise<void> {
  const message = safeErrorText(error);
  deps.logger.warn({ grantId, operation, finalAttempt, error: message }, `connector ${operation} failed`);
  const failed = await deps.store.transaction(async (uow) => {
    const grant = await uow.lockGrant(grantId);
    if (!grant) return false;
    // An active grant fails its revoke only once it is due (an extension may have moved it on meanwhile).
    const fails =
      operation === "grant"
        ? grant.status === "scheduled"
        : grant.status === "revoking" || (grant.status === "active" && grant.expiresAt <= deps.now());
    if (!finalAttempt || !fails) {
      await uow.updateGrant(grant.id, grant.version, { attempts: grant.attempts + 1, lastError: message });
      return false;
    }
    const revoking =
      grant.status === "active" ? transitionGrant(grant, { type: "revoke", cause: "expired" }, deps.now()) : grant;
    const next = transitionGrant(
      revoking,
      { type: operation === "grant" ? "activation_failed" : "revoke_failed" },
      deps.now(),
    );
    // A grant that failed its revoke at expiry keeps why it was being revoked (the sweeper's retry reads it).
    const revokeReason = grant.status === "active" ? { revokeReason: grant.revokeReason ?? "expired" } : {};
    await uow.updateGrant(grant.id, grant.version, {
      status: next.status,
      attempts: grant.attempts + 1,
      lastError: message,
      ...revokeReason,
    });
    await uow.appendAudit({
      type: operation === "grant" ? "grant.failed" : "grant.revoke_failed",
      grantId,
      requestId: grant.requestId,
      data: { error: message, attempts: grant.attempts + 1, alert: true },
    });
    return true;
  });
  if (!failed) return;
  const alert =
    operation === "grant"
      ? `Granting ${grantId} failed for good: ${message}`
      : `Revoking ${grantId} keeps failing; access may still be live: ${message}`;
  deps.logger.error({ grantId, operation }, alert);
  if (operation === "grant") await afterCommit(deps, "undo failed grant", () => undoFailedGrant(deps, grantId));
  await afterCommit(deps, "alert", () => deps.notifier.publish({ type: "alert", message: alert, grantId }));
}
