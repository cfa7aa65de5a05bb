import { isAppError } from "../domain/errors.js";
import { canApply, transitionGrant } from "../domain/grant-machine.js";
import type { ServiceDeps } from "./deps.js";
import { runAfterCommit, saveGrant } from "./effects.js";
import { releaseEntitlement } from "./entitlement-lease.js";

/** Text safe to store and show: connectors put redacted, actionable text in AppError.userMessage. */
export function safeErrorText(error: unknown): string {
  if (isAppError(error)) return error.userMessage;
  return "the connector failed with an unexpected error; see the worker log";
}

/**
 * Records a failed grant, revoke or clean-up attempt and gives the entitlement back. The grant
 * machine decides whether it is the end (grant_failed / revoke_failed, with an alert) or one more
 * attempt to retry.
 */
export async function recordConnectorFailure(
  deps: ServiceDeps,
  grantId: string,
  operation: "grant" | "revoke" | "cleanup",
  error: unknown,
  finalAttempt: boolean,
): Promise<void> {
  const message = safeErrorText(error);
  deps.logger.warn({ grantId, operation, finalAttempt, error: message }, `connector ${operation} failed`);
  let connector: string | undefined;
  const recorded = await deps.store.transaction(async (uow) => {
    const grant = await uow.lockGrant(grantId);
    if (!grant) return null;
    connector = grant.connectorName;
    await releaseEntitlement(deps, uow, grant);
    if (!canApply(grant, "attempt_failed")) return null;
    const transition = transitionGrant(
      grant,
      { type: "attempt_failed", operation, error: message, final: finalAttempt },
      deps.now(),
    );
    return saveGrant(deps, uow, grant, transition);
  });
  if (connector) deps.metrics?.connectorFailure(connector, operation);
  if (recorded) await runAfterCommit(deps, recorded.after, recorded.saved);
}
