import { toSeconds } from "../domain/duration.js";
import { AppError } from "../domain/errors.js";
import { CONNECTOR_TRANSACTION_MS, type ServiceDeps } from "./deps.js";
import { extendAtTarget, extendedExpiry } from "./grant-extension.js";
import { afterSubmission } from "./outcome.js";
import type { GrantRow, RequestRow } from "./ports.js";
import { applyRequestEvent } from "./request-transitions.js";
import { requestRevoke } from "./revoke-grant.js";
import { snapshotOf } from "./submit-request.js";

async function loadGrant(deps: ServiceDeps, grantId: string): Promise<GrantRow> {
  const grant = await deps.store.getGrant(grantId);
  if (!grant) throw new AppError("not_found", `There is no grant ${grantId}.`);
  return grant;
}

/** The holder gives the access back before it expires. */
export async function relinquishGrant(
  deps: ServiceDeps,
  input: { grantId: string; actorId: string },
): Promise<GrantRow> {
  const grant = await loadGrant(deps, input.grantId);
  if (grant.subjectId !== input.actorId)
    throw new AppError("forbidden", "Only the person who holds this grant can relinquish it; an admin can revoke it.");
  return requestRevoke(deps, { grantId: grant.id, actorId: input.actorId, cause: "relinquished" });
}

/** An admin takes the access away now. */
export async function adminRevokeGrant(
  deps: ServiceDeps,
  input: { grantId: string; actorId: string; reason?: string },
): Promise<GrantRow> {
  if (!deps.policy().isAdmin(input.actorId))
    throw new AppError(
      "forbidden",
      "Only admins (people with admin: true in the policy file) can revoke someone else's grant.",
    );
  await loadGrant(deps, input.grantId);
  return requestRevoke(deps, {
    grantId: input.grantId,
    actorId: input.actorId,
    cause: "admin",
    ...(input.reason ? { reason: input.reason } : {}),
  });
}

/**
 * The holder asks for more time. Within the policy's maximum total; applied at once when the
 * policy needs no re-approval (or an auto-approval rule matches), otherwise it becomes an
 * extension request that goes through the same approvers.
 */
export async function extendGrant(
  deps: ServiceDeps,
  input: { grantId: string; actorId: string; duration: number | string; reason?: string },
): Promise<{ request: RequestRow; grant: GrantRow }> {
  const now = deps.now();
  const grant = await loadGrant(deps, input.grantId);
  if (grant.subjectId !== input.actorId)
    throw new AppError("forbidden", "Only the person who holds this grant can extend it.");
  if (grant.status !== "active")
    throw new AppError("conflict", `Only an active grant can be extended; this one is ${grant.status}.`);
  const original = (await deps.store.getRequest(grant.requestId))!;
  const additionalSeconds = toSeconds(input.duration);
  extendedExpiry(grant, additionalSeconds, original.snapshot.extension.maxTotalSeconds);
  const reason = input.reason ?? original.reason ?? undefined;
  const evaluation = deps.policy().evaluateRequest(
    {
      requesterId: input.actorId,
      resourceId: grant.resourceId,
      durationSeconds: Math.min(additionalSeconds, original.snapshot.maxDurationSeconds),
      ...(reason ? { reason } : {}),
      ...(original.ticket ? { ticket: original.ticket } : {}),
    },
    now,
  );
  const autoReason = !original.snapshot.extension.requiresApproval
    ? `policy ${original.policyId} lets holders extend without re-approval`
    : evaluation.autoApproval?.reason;
  const outcome = await deps.store.transaction(
    async (uow) => {
      const request = await uow.createRequest({
        kind: "extension",
        requesterId: input.actorId,
        resourceId: grant.resourceId,
        policyId: evaluation.policyId,
        durationSeconds: additionalSeconds,
        reason: reason ?? null,
        ticket: original.ticket,
        snapshot: { ...snapshotOf(evaluation, deps.connectors), extension: original.snapshot.extension },
        autoApprovalReason: null,
        extendsGrantId: grant.id,
        pendingUntil: new Date(
          Math.min(now.getTime() + evaluation.pendingTimeoutSeconds * 1000, grant.expiresAt.getTime()),
        ),
      });
      await uow.appendAudit({
        type: "extension.submitted",
        actorId: input.actorId,
        requestId: request.id,
        grantId: grant.id,
        data: { additionalSeconds, reason: reason ?? null },
      });
      if (!autoReason) return { request, grant: null, stepAdvanced: false };
      return applyRequestEvent(
        uow,
        request,
        { type: "auto_approve", reason: autoReason },
        { now, isStillApprover: () => false, extendTarget: extendAtTarget(deps) },
      );
    },
    { timeoutMs: CONNECTOR_TRANSACTION_MS },
  );
  await afterSubmission(deps, outcome);
  return { request: outcome.request, grant: (await deps.store.getGrant(grant.id))! };
}
