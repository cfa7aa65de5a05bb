import { AppError } from "../domain/errors.js";
import { type RequestEvent, type RequestState, transitionRequest } from "../domain/request-machine.js";
import { applyExtension, type ExtendAtTarget } from "./grant-extension.js";
import type { GrantRow, RequestRow, UnitOfWork } from "./ports.js";

export interface AppliedTransition {
  request: RequestRow;
  grant: GrantRow | null;
  stepAdvanced: boolean;
}

export function toRequestState(row: RequestRow): RequestState {
  return {
    id: row.id,
    status: row.status,
    version: row.version,
    requesterId: row.requesterId,
    steps: row.snapshot.steps,
    currentStep: row.currentStep,
    selfApproval: row.snapshot.selfApproval,
    approvals: row.decisions
      .filter((d) => d.kind === "approve")
      .map((d) => ({ approverId: d.approverId, step: d.step })),
    pendingUntil: row.pendingUntil,
  };
}

const AUDIT_TYPE: Record<RequestEvent["type"], string> = {
  approve: "request.approved",
  deny: "request.denied",
  cancel: "request.cancelled",
  auto_approve: "request.auto_approved",
  expire: "request.expired",
};

/**
 * Applies one request event inside a transaction: the pure transition, the version-checked save,
 * the decision row, the grant (or extension) an approval creates, and the audit rows.
 */
export async function applyRequestEvent(
  uow: UnitOfWork,
  request: RequestRow,
  event: RequestEvent,
  context: { now: Date; isStillApprover: (id: string) => boolean; extendTarget?: ExtendAtTarget },
): Promise<AppliedTransition> {
  const { next, effects } = transitionRequest(toRequestState(request), event, context);
  const finished = next.status !== "pending";
  const actorId = "actorId" in event ? event.actorId : null;
  const saved = await uow.updateRequest(request.id, request.version, {
    status: next.status,
    currentStep: next.currentStep,
    ...(finished ? { decidedAt: context.now, decidedById: actorId } : {}),
    ...(event.type === "deny" && event.reason ? { decisionReason: event.reason } : {}),
    ...(event.type === "auto_approve" ? { autoApprovalReason: event.reason } : {}),
  });
  if (!saved)
    throw new AppError(
      "conflict",
      "This request changed while your decision was being saved; nothing was recorded. Look at it again.",
    );

  let grant: GrantRow | null = null;
  for (const effect of effects) {
    if (effect.kind === "record_decision") {
      await uow.addDecision(request.id, {
        approverId: effect.approverId,
        kind: effect.decision,
        step: effect.step,
        comment: effect.comment ?? null,
      });
    }
    if (effect.kind === "create_grant") {
      grant =
        request.kind === "extension"
          ? await applyExtension(uow, request, context.now, context.extendTarget ?? (async () => ({})))
          : await createGrant(uow, request, context.now);
    }
  }
  const auditType = event.type === "approve" && !finished ? "request.approval_recorded" : AUDIT_TYPE[event.type];
  await uow.appendAudit({
    type: auditType,
    actorId,
    requestId: request.id,
    data: {
      status: next.status,
      step: request.currentStep,
      ...(event.type === "deny" && event.reason ? { reason: event.reason } : {}),
      ...(event.type === "approve" && event.comment ? { comment: event.comment } : {}),
      ...(event.type === "auto_approve" ? { rule: event.reason } : {}),
    },
  });
  const updated = await uow.getRequest(request.id);
  return { request: updated!, grant, stepAdvanced: next.currentStep !== request.currentStep };
}

async function createGrant(uow: UnitOfWork, request: RequestRow, now: Date): Promise<GrantRow> {
  const { connectorName, principal, target } = request.snapshot;
  const grant = await uow.createGrant({
    requestId: request.id,
    subjectId: request.requesterId,
    resourceId: request.resourceId,
    connectorName,
    principal,
    target,
    entitlementKey: request.snapshot.entitlementKey,
    durationSeconds: request.durationSeconds,
    startsAt: now,
    // Provisional: activation sets the real expiry to activation time + duration.
    expiresAt: new Date(now.getTime() + request.durationSeconds * 1000),
  });
  await uow.appendAudit({
    type: "grant.scheduled",
    requestId: request.id,
    grantId: grant.id,
    data: { principal, connectorName, durationSeconds: request.durationSeconds },
  });
  return grant;
}
