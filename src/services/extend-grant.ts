import { draftRequest, type RequestRow } from "../domain/access-request.js";
import { toSeconds } from "../domain/duration.js";
import { AppError } from "../domain/errors.js";
import type { GrantRow } from "../domain/grant.js";
import { extendedExpiry } from "../domain/grant-machine.js";
import { canSeeGrant } from "../domain/visibility.js";
import type { ServiceDeps } from "./deps.js";
import { storeNewRequest } from "./store-new-request.js";
import { snapshotOf } from "./submit-request.js";

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
  const grant = await deps.store.getGrant(input.grantId);
  if (!grant || !canSeeGrant(grant, input.actorId, deps.policy().isAdmin(input.actorId)))
    throw new AppError("not_found", `There is no grant ${input.grantId} that you can see.`);
  if (grant.subjectId !== input.actorId)
    throw new AppError("forbidden", "Only the person who holds this grant can extend it.");
  if (grant.status !== "active")
    throw new AppError("conflict", `Only an active grant can be extended; this one is ${grant.status}.`);
  const original = (await deps.store.getRequest(grant.requestId))!;
  const additionalSeconds = toSeconds(input.duration);
  // Refused here already, before an approver is asked for something the policy forbids.
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
    : (evaluation.autoApproval?.reason ?? null);
  const draft = draftRequest(
    {
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
    },
    { now, newId: deps.newId },
  );
  const request = await storeNewRequest(deps, draft, autoReason);
  return { request, grant: (await deps.store.getGrant(grant.id))! };
}
