import type { z } from "zod";
import type { RequestRow } from "../domain/access-request.js";
import type { GrantRow } from "../domain/grant.js";
import type { GrantView, RequestView } from "./api-schemas.js";

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

export function requestView(row: RequestRow): z.infer<typeof RequestView> {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    version: row.version,
    requester: row.requesterId,
    resource: row.resourceId,
    policy: row.policyId,
    durationSeconds: row.durationSeconds,
    reason: row.reason,
    ticket: row.ticket,
    matchedBecause: row.snapshot.matchedBecause,
    steps: row.snapshot.steps.map((step, index) => ({
      name: step.name,
      approvers: step.approverIds,
      required: step.required,
      received: row.decisions.filter((d) => d.step === index && d.kind === "approve").length,
    })),
    currentStep: row.currentStep,
    decisions: row.decisions.map((d) => ({
      approverId: d.approverId,
      kind: d.kind,
      step: d.step,
      comment: d.comment,
      at: d.createdAt.toISOString(),
    })),
    autoApprovalReason: row.autoApprovalReason,
    decisionReason: row.decisionReason,
    decidedBy: row.decidedById,
    decidedAt: iso(row.decidedAt),
    pendingUntil: row.pendingUntil.toISOString(),
    extendsGrant: row.extendsGrantId,
    grant: row.grantId,
    createdAt: row.createdAt.toISOString(),
    escalation: row.escalationLog.map((entry) => ({
      step: entry.step,
      action: entry.action,
      at: entry.at.toISOString(),
      summary: entry.summary,
    })),
    onCallNote: row.snapshot.onCallNote ?? null,
    trigger: row.snapshot.trigger ?? null,
    breakGlass: row.breakGlass,
    review: row.reviewedAt ? { by: row.reviewedById, at: row.reviewedAt.toISOString(), note: row.reviewNote } : null,
  };
}

export function grantView(row: GrantRow): z.infer<typeof GrantView> {
  return {
    id: row.id,
    request: row.requestId,
    subject: row.subjectId,
    resource: row.resourceId,
    connector: row.connectorName,
    principal: row.principal,
    status: row.status,
    version: row.version,
    startsAt: row.startsAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    activatedAt: iso(row.activatedAt),
    revokedAt: iso(row.revokedAt),
    revokeReason: row.revokeReason,
    revokedBy: row.revokedById,
    receipt: row.receipt,
    hasCredentials: row.hasSecret,
    attempts: row.attempts,
    lastError: row.lastError,
    trigger: row.trigger ?? null,
  };
}
