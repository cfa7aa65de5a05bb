import { transitionGrant } from "../domain/grant-machine.js";
import { recordConnectorFailure } from "./connector-failure.js";
import { afterCommit, CONNECTOR_TRANSACTION_MS, type ServiceDeps } from "./deps.js";
import type { GrantRow } from "./ports.js";

export type ActivationResult = { kind: "activated"; grant: GrantRow } | { kind: "skipped"; grant: GrantRow | null };

/**
 * Grants the access through the connector. Runs under the entitlement lock with the grant row
 * locked, so a revoke or a second worker waits; a grant that is no longer `scheduled` is left alone.
 * Throws on connector failure so the job retries; the last attempt marks the grant failed.
 */
export async function activateGrant(
  deps: ServiceDeps,
  grantId: string,
  options: { finalAttempt: boolean },
): Promise<ActivationResult> {
  let result: ActivationResult;
  try {
    result = await deps.store.transaction(
      async (uow) => {
        const grant = await uow.lockGrantAndEntitlement(grantId);
        if (grant?.status !== "scheduled") return { kind: "skipped", grant };
        const activatedAt = deps.now();
        const expiresAt = new Date(activatedAt.getTime() + grant.durationSeconds * 1000);
        const receipt = await deps.connectors
          .get(grant.connectorName)
          .grant({ grantId, principal: grant.principal, target: grant.target, expiresAt });
        const next = transitionGrant(grant, { type: "activated" }, activatedAt);
        await uow.updateGrant(grant.id, grant.version, {
          status: next.status,
          activatedAt,
          expiresAt,
          receipt: receipt.data,
          sealedSecret: receipt.secret ? deps.secrets.seal(receipt.secret) : null,
          attempts: grant.attempts + 1,
          lastError: null,
        });
        await uow.appendAudit({
          type: "grant.activated",
          requestId: grant.requestId,
          grantId,
          data: {
            principal: grant.principal,
            connectorName: grant.connectorName,
            expiresAt: expiresAt.toISOString(),
            receipt: receipt.data,
            issuedCredentials: receipt.secret !== undefined,
          },
        });
        return { kind: "activated", grant: (await uow.getGrant(grantId))! };
      },
      { timeoutMs: CONNECTOR_TRANSACTION_MS },
    );
  } catch (error) {
    await recordConnectorFailure(deps, grantId, "grant", error, options.finalAttempt);
    throw error;
  }
  if (result.kind === "activated") {
    const grant = result.grant;
    await afterCommit(deps, "schedule revoke", () => deps.jobs.scheduleRevoke(grant.id, grant.expiresAt));
    await afterCommit(deps, "notify", () => deps.notifier.publish({ type: "grant.activated", grant }));
  }
  return result;
}
