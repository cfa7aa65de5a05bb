import type { EscalationEntry, RequestRow, RequestSnapshot } from "../domain/access-request.js";
import type { AccessTrigger } from "../domain/access-trigger.js";
import type { GrantRow } from "../domain/grant.js";
import type { AccessRequest, Decision, Grant } from "./generated/prisma/client.js";

/** Prisma rows → service rows. The sealed secret never leaves storage through these. */

export function toRequestRow(
  row: AccessRequest & { decisions?: Decision[]; grant?: { id: string } | null },
): RequestRow {
  return {
    id: row.id,
    kind: row.kind,
    requesterId: row.requesterId,
    resourceId: row.resourceId,
    policyId: row.policyId,
    durationSeconds: row.durationSeconds,
    reason: row.reason,
    ticket: row.ticket,
    status: row.status,
    version: row.version,
    snapshot: row.policySnapshot as unknown as RequestSnapshot,
    currentStep: row.currentStep,
    autoApprovalReason: row.autoApprovalReason,
    decisionReason: row.decisionReason,
    decidedById: row.decidedById,
    extendsGrantId: row.extendsGrantId,
    grantId: row.grant?.id ?? null,
    pendingUntil: row.pendingUntil,
    decidedAt: row.decidedAt,
    createdAt: row.createdAt,
    decisions: (row.decisions ?? [])
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((d) => ({
        approverId: d.approverId,
        kind: d.kind,
        step: d.step,
        comment: d.comment,
        createdAt: d.createdAt,
      })),
    escalationLog: ((row.escalationLog ?? []) as unknown as (Omit<EscalationEntry, "at"> & { at: string })[]).map(
      (entry) => ({ ...entry, at: new Date(entry.at) }),
    ),
    breakGlass: row.breakGlass,
    reviewedAt: row.reviewedAt,
    reviewedById: row.reviewedById,
    reviewNote: row.reviewNote,
  };
}

export function toGrantRow(row: Grant): GrantRow {
  return {
    id: row.id,
    requestId: row.requestId,
    subjectId: row.subjectId,
    resourceId: row.resourceId,
    connectorName: row.connectorName,
    principal: row.principal,
    target: row.target as Record<string, unknown>,
    entitlementKey: row.entitlementKey,
    status: row.status,
    version: row.version,
    durationSeconds: row.durationSeconds,
    startsAt: row.startsAt,
    expiresAt: row.expiresAt,
    activatedAt: row.activatedAt,
    revokedAt: row.revokedAt,
    revokeReason: row.revokeReason,
    revokedById: row.revokedById,
    receipt: (row.receipt as Record<string, unknown> | null) ?? null,
    hasSecret: row.sealedSecret !== null,
    attempts: row.attempts,
    lastError: row.lastError,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    trigger: (row.trigger as AccessTrigger | null | undefined) ?? null,
  };
}

/** A request row read with its grant id and decisions as columns, in one statement. */
export type LinkedRequest = AccessRequest & {
  linkedGrantId: string | null;
  linkedDecisions: (Omit<Decision, "id" | "requestId" | "createdAt"> & { createdAt: string })[];
};

export function fromLinkedRequest(row: LinkedRequest): RequestRow {
  const { linkedGrantId, linkedDecisions, ...request } = row;
  return {
    ...toRequestRow(request),
    grantId: linkedGrantId,
    // json_build_object renders a timestamp without its zone; the database stores UTC.
    decisions: linkedDecisions.map((d) => ({ ...d, createdAt: new Date(`${d.createdAt}Z`) })),
  };
}
