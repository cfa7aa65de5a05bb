import type { EscalationEntry, RequestPatch, RequestRow, SnapshotEscalationStep } from "./access-request.js";
import type { AuditInput } from "./audit-event.js";
import type { Effect, Transition } from "./effects.js";
import { AppError } from "./errors.js";
import type { GrantStatus } from "./grant.js";
import { describeDecided } from "./request-text.js";
import { canReviewBreakGlass, canSeeRequest, isNamedBy } from "./visibility.js";

/**
 * The access-request state machine: pending → approved | denied | cancelled | expired, plus what
 * happens to a pending request on the way (approvals of N of M, ordered steps, escalation) and to
 * a break-glass one afterwards (its page, its review). Pure: every guard and every effect is
 * decided here; services lock, call `transitionRequest`, save the patch with the version check and
 * hand the effects to `services/effects.ts`.
 */

export type RequestEvent =
  | { type: "approve"; actorId: string; comment?: string; expectedVersion?: number; expectedSha256?: string }
  | { type: "deny"; actorId: string; reason?: string; expectedVersion?: number }
  | { type: "cancel"; actorId: string }
  | { type: "auto_approve"; reason: string }
  | { type: "expire" }
  /** A ladder step ran: `summary` says what happened, `addApproverIds` who was asked on top. */
  | { type: "escalate"; step: number; summary: string; addApproverIds: string[]; paged?: string }
  | { type: "break_glass_paged"; summary: string; paged?: string }
  | { type: "review"; actorId: string; note?: string };

export interface RequestContext {
  now: Date;
  /** Whether the person is still an approver under the current policy (membership may have changed). */
  isStillApprover: (personId: string) => boolean;
  isAdmin: (personId: string) => boolean;
  /** Ids for records a transition creates (the grant of an approval). */
  newId: () => string;
  /** For an extension request: the status of the grant it extends, as it is now. */
  extendedGrantStatus?: GrantStatus | "missing";
}

export type RequestTransition = Transition<RequestPatch>;

/** The log entry of a break-glass page sits before every ladder step. */
export const BREAK_GLASS_STEP = -1;

const AUDIT_TYPE = {
  approve: "request.approved",
  deny: "request.denied",
  cancel: "request.cancelled",
  auto_approve: "request.auto_approved",
  expire: "request.expired",
} as const;

export function transitionRequest(request: RequestRow, event: RequestEvent, ctx: RequestContext): RequestTransition {
  switch (event.type) {
    case "approve":
    case "deny":
      return decide(request, event, ctx);
    case "cancel":
      // Checked before the status, so someone else learns nothing about the request.
      if (!canSeeRequest(request, event.actorId, ctx.isAdmin(event.actorId)))
        throw new AppError("not_found", `There is no request ${request.id} that you can see.`);
      if (event.actorId !== request.requesterId)
        throw new AppError("forbidden", "Only the person who made this request can cancel it.");
      assertPending(request, "There is nothing to cancel.");
      return finish(request, "cancelled", event, ctx);
    case "auto_approve":
      assertPending(request, "Nothing was changed.");
      return finish(request, "approved", event, ctx);
    case "expire":
      assertPending(request, "Nothing was changed.");
      if (ctx.now.getTime() < request.pendingUntil.getTime())
        throw new AppError("conflict", "This request has not reached its pending deadline yet.");
      return finish(request, "expired", event, ctx);
    case "escalate":
      return escalate(request, event, ctx);
    case "break_glass_paged":
      return breakGlassPaged(request, event, ctx);
    case "review":
      return review(request, event, ctx);
  }
}

/** What a new request sets off: its audit row and, while it waits, its deadline, its ladder and its cards. */
export function submissionEffects(request: RequestRow): Effect[] {
  const submitted: Effect = {
    kind: "audit",
    event: {
      type: request.breakGlass ? "request.break_glass" : "request.submitted",
      actorId: request.requesterId,
      requestId: request.id,
      data: {
        resourceId: request.resourceId,
        policyId: request.policyId,
        durationSeconds: request.durationSeconds,
        reason: request.reason,
        ticket: request.ticket,
        matchedBecause: request.snapshot.matchedBecause,
        ...(request.snapshot.onCallNote ? { onCall: request.snapshot.onCallNote } : {}),
        ...(request.snapshot.trigger ? { trigger: request.snapshot.trigger } : {}),
        // An action: what was asked, by its hash and class (the text itself stays with the request).
        ...(request.snapshot.action
          ? { action: { sha256: request.snapshot.action.sha256, class: request.snapshot.action.class } }
          : {}),
      },
    },
  };
  if (request.kind === "extension") {
    submitted.event = {
      type: "extension.submitted",
      actorId: request.requesterId,
      requestId: request.id,
      grantId: request.extendsGrantId,
      data: { additionalSeconds: request.durationSeconds, reason: request.reason },
    };
  }
  if (request.status !== "pending") return [submitted];
  return [
    submitted,
    { kind: "schedule_request_expiry", requestId: request.id, at: request.pendingUntil },
    ...ladderSteps(request.snapshot.escalation ?? []).map(
      ({ index, afterSeconds }): Effect => ({
        kind: "schedule_escalation",
        requestId: request.id,
        step: index,
        at: new Date(request.createdAt.getTime() + afterSeconds * 1000),
      }),
    ),
    { kind: "notify_request", notice: "request.submitted" },
  ];
}

/** The ladder steps that run as jobs (the expire step is the request's pending deadline). */
function ladderSteps(ladder: SnapshotEscalationStep[]): { index: number; afterSeconds: number }[] {
  return ladder.flatMap((step, index) =>
    step.action === "expire" ? [] : [{ index, afterSeconds: step.afterSeconds }],
  );
}

/**
 * Whether ladder step `index` still has to run: the request waits, its deadline has not passed
 * (nobody could approve it any more, so nobody is paged for it) and the step has not run yet.
 */
export function escalationStepDue(request: RequestRow, index: number, now: Date): SnapshotEscalationStep | null {
  const step = request.snapshot.escalation?.[index];
  if (!step || step.action === "expire" || request.status !== "pending") return null;
  if (request.pendingUntil.getTime() <= now.getTime()) return null;
  return request.escalationLog.some((entry) => entry.step === index) ? null : step;
}

function assertPending(request: RequestRow, tail: string): void {
  if (request.status !== "pending")
    throw new AppError("already_decided", `${describeDecided(request)} ${tail}`, {
      details: { status: request.status, version: request.version },
    });
}

function decide(
  request: RequestRow,
  event: Extract<RequestEvent, { type: "approve" | "deny" }>,
  ctx: RequestContext,
): RequestTransition {
  // Only people the request names learn anything about its state.
  if (!isNamedBy(request, event.actorId))
    throw new AppError("forbidden", "You are not an approver for this request, so your decision was not recorded.");
  assertPending(request, "Your decision was not recorded.");
  if (request.pendingUntil <= ctx.now)
    throw new AppError(
      "already_decided",
      `This request expired at ${request.pendingUntil.toISOString()} without a decision; nothing was recorded. The requester can ask again.`,
      { details: { status: "expired", version: request.version } },
    );
  if (event.expectedVersion !== undefined && event.expectedVersion !== request.version)
    throw new AppError(
      "stale",
      "This request changed since your card was sent (another approval arrived). Nothing was recorded; look at the current request and decide again.",
      { details: { status: request.status, version: request.version } },
    );
  const action = request.snapshot.action;
  if (
    event.type === "approve" &&
    action &&
    event.expectedSha256 !== undefined &&
    event.expectedSha256 !== action.sha256
  )
    throw new AppError(
      "stale",
      "The action you approved is not the text of this request (its sha256 differs). Nothing was recorded; read the action again.",
      { details: { sha256: action.sha256, version: request.version } },
    );
  assertMayDecide(request, event.actorId, ctx);
  const alreadyApproved = request.decisions.some(
    (d) => d.kind === "approve" && d.approverId === event.actorId && d.step === request.currentStep,
  );
  if (event.type === "deny") {
    if (alreadyApproved)
      throw new AppError(
        "already_decided",
        "You already approved this step of the request; your approval stands and cannot be turned into a denial. Ask another approver or an admin.",
      );
    return finish(request, "denied", event, ctx);
  }
  if (alreadyApproved)
    throw new AppError("already_decided", "You already approved this request; it is waiting for other approvers.");
  if (request.kind === "extension" && ctx.extendedGrantStatus !== "active")
    throw new AppError(
      "conflict",
      `The grant this extension is for is no longer active (${ctx.extendedGrantStatus ?? "missing"}), so there is nothing to extend. Deny the extension or let it expire.`,
    );
  return approve(request, event, ctx);
}

function assertMayDecide(request: RequestRow, actorId: string, ctx: RequestContext): void {
  if (actorId === request.requesterId && !request.snapshot.selfApproval)
    throw new AppError(
      "forbidden",
      "You cannot approve or deny your own request; one of the designated approvers must decide.",
    );
  const step = request.snapshot.steps[request.currentStep];
  if (!step?.approverIds.includes(actorId) || !ctx.isStillApprover(actorId))
    throw new AppError(
      "forbidden",
      "You are not an approver for this request at its current step, so your decision was not recorded.",
      { details: { step: step?.name } },
    );
}

function recordDecision(
  request: RequestRow,
  actorId: string,
  kind: "approve" | "deny",
  comment: string | undefined,
): Effect {
  return {
    kind: "record_decision",
    requestId: request.id,
    decision: { approverId: actorId, kind, step: request.currentStep, comment: comment ?? null },
  };
}

function approve(
  request: RequestRow,
  event: Extract<RequestEvent, { type: "approve" }>,
  ctx: RequestContext,
): RequestTransition {
  const step = request.snapshot.steps[request.currentStep]!;
  const received = request.decisions.filter((d) => d.kind === "approve" && d.step === request.currentStep).length + 1;
  if (received >= step.required && request.currentStep + 1 >= request.snapshot.steps.length)
    return finish(request, "approved", event, ctx);
  const advances = received >= step.required;
  return {
    patch: advances ? { currentStep: request.currentStep + 1 } : {},
    effects: [
      recordDecision(request, event.actorId, "approve", event.comment),
      audit(request, "request.approval_recorded", event.actorId, {
        status: "pending",
        step: request.currentStep,
        ...(event.comment ? { comment: event.comment } : {}),
      }),
      { kind: "notify_request", notice: advances ? "request.step_advanced" : "request.approval_recorded" },
    ],
  };
}

/** Ends a pending request: the decision, the grant an approval creates, its audit row, who is told. */
function finish(
  request: RequestRow,
  status: "approved" | "denied" | "cancelled" | "expired",
  event: Extract<RequestEvent, { type: "approve" | "deny" | "cancel" | "auto_approve" | "expire" }>,
  ctx: RequestContext,
): RequestTransition {
  const actorId = "actorId" in event ? event.actorId : null;
  const patch: RequestPatch = {
    status,
    decidedAt: ctx.now,
    decidedById: actorId,
    ...(event.type === "deny" && event.reason ? { decisionReason: event.reason } : {}),
    ...(event.type === "auto_approve" ? { autoApprovalReason: event.reason } : {}),
  };
  const effects: Effect[] = [];
  if (event.type === "approve") effects.push(recordDecision(request, event.actorId, "approve", event.comment));
  if (event.type === "deny") effects.push(recordDecision(request, event.actorId, "deny", event.reason));
  effects.push(
    audit(request, AUDIT_TYPE[event.type], actorId, {
      status,
      step: request.currentStep,
      ...(event.type === "deny" && event.reason ? { reason: event.reason } : {}),
      ...(event.type === "approve" && event.comment ? { comment: event.comment } : {}),
      ...(event.type === "auto_approve" ? { rule: event.reason } : {}),
    }),
  );
  if (status === "approved") {
    const grant = grantEffects(request, ctx);
    if (grant.grantId) patch.grantId = grant.grantId;
    effects.push(...grant.effects);
  }
  if (request.breakGlass && status === "approved") {
    effects.push({ kind: "raise_break_glass_alarm", requestId: request.id });
    return { patch, effects };
  }
  effects.push({ kind: "notify_request", notice: "request.decided" });
  const paged = pagedSources(request.escalationLog);
  if (paged.length > 0) effects.push({ kind: "resolve_pages", requestId: request.id, sources: paged });
  return { patch, effects };
}

/** An approved access request creates its grant; an approved extension moves its grant's expiry; an action queues its run. */
function grantEffects(request: RequestRow, ctx: RequestContext): { grantId: string | null; effects: Effect[] } {
  if (request.snapshot.action)
    return {
      grantId: null,
      effects: [
        { kind: "create_action_run", requestId: request.id, runId: ctx.newId() },
        { kind: "enqueue_action_run", requestId: request.id },
      ],
    };
  if (request.kind === "extension")
    return {
      grantId: null,
      effects: [
        {
          kind: "extend_grant",
          grantId: request.extendsGrantId!,
          requestId: request.id,
          additionalSeconds: request.durationSeconds,
          maxTotalSeconds: request.snapshot.extension.maxTotalSeconds,
        },
      ],
    };
  const { connectorName, principal, target, entitlementKey } = request.snapshot;
  const grantId = ctx.newId();
  const effects: Effect[] = [
    {
      kind: "create_grant",
      grant: {
        id: grantId,
        requestId: request.id,
        subjectId: request.requesterId,
        resourceId: request.resourceId,
        connectorName,
        principal,
        target,
        entitlementKey,
        durationSeconds: request.durationSeconds,
        startsAt: ctx.now,
        // Provisional: activation sets the real expiry to activation time + duration.
        expiresAt: new Date(ctx.now.getTime() + request.durationSeconds * 1000),
        ...(request.snapshot.trigger ? { trigger: request.snapshot.trigger } : {}),
      },
    },
    {
      kind: "audit",
      event: {
        type: "grant.scheduled",
        requestId: request.id,
        grantId,
        data: {
          principal,
          connectorName,
          durationSeconds: request.durationSeconds,
          ...(request.snapshot.trigger ? { trigger: request.snapshot.trigger } : {}),
        },
      },
    },
    { kind: "enqueue_activation", grantId },
  ];
  return { grantId, effects };
}

function escalate(
  request: RequestRow,
  event: Extract<RequestEvent, { type: "escalate" }>,
  ctx: RequestContext,
): RequestTransition {
  const step = escalationStepDue(request, event.step, ctx.now);
  if (!step) throw new AppError("conflict", "This escalation step has already run or the request was decided.");
  const entry: EscalationEntry = {
    step: event.step,
    action: step.action,
    at: ctx.now,
    summary: event.summary,
    ...(event.paged ? { paged: event.paged } : {}),
  };
  const steps = request.snapshot.steps.map((s, index) =>
    index === request.currentStep
      ? { ...s, approverIds: [...new Set([...s.approverIds, ...event.addApproverIds])].sort() }
      : s,
  );
  const onCallApproverIds =
    step.action === "page"
      ? [...new Set([...(request.snapshot.onCallApproverIds ?? []), ...event.addApproverIds])]
      : request.snapshot.onCallApproverIds;
  return {
    patch: {
      escalationLog: [...request.escalationLog, entry],
      snapshot: { ...request.snapshot, steps, ...(onCallApproverIds ? { onCallApproverIds } : {}) },
    },
    effects: [
      audit(request, "request.escalated", null, {
        step: event.step,
        action: step.action,
        summary: event.summary,
        ...(event.paged ? { paged: event.paged } : {}),
      }),
      { kind: "notify_escalated", entry },
      ...(step.action === "remind" ? [{ kind: "remind_approvers", step: event.step } as const] : []),
    ],
  };
}

function breakGlassPaged(
  request: RequestRow,
  event: Extract<RequestEvent, { type: "break_glass_paged" }>,
  ctx: RequestContext,
): RequestTransition {
  if (!request.breakGlass || request.escalationLog.some((entry) => entry.step === BREAK_GLASS_STEP))
    throw new AppError("conflict", "This break-glass request already recorded its page.");
  const entry: EscalationEntry = {
    step: BREAK_GLASS_STEP,
    action: "page",
    at: ctx.now,
    summary: event.summary,
    ...(event.paged ? { paged: event.paged } : {}),
  };
  const effects: Effect[] = [
    audit(request, "request.break_glass_paged", null, { summary: event.summary }),
    { kind: "notify_request", notice: "request.break_glass" },
  ];
  if (!event.paged)
    effects.push({
      kind: "alert",
      message: `Break-glass by ${request.requesterId} on ${request.resourceId}: ${event.summary}`,
      requestId: request.id,
    });
  return { patch: { escalationLog: [...request.escalationLog, entry] }, effects };
}

function review(
  request: RequestRow,
  event: Extract<RequestEvent, { type: "review" }>,
  ctx: RequestContext,
): RequestTransition {
  if (!request.breakGlass) throw new AppError("not_found", `There is no break-glass request ${request.id}.`);
  if (!canReviewBreakGlass(request, event.actorId, ctx.isAdmin(event.actorId)))
    throw new AppError(
      "forbidden",
      request.requesterId === event.actorId
        ? "You cannot review your own break-glass access; an approver or admin must."
        : "Only the policy's approvers or an admin can review break-glass access.",
    );
  if (request.reviewedAt)
    throw new AppError(
      "already_decided",
      `This break-glass access was already reviewed by ${request.reviewedById} at ${request.reviewedAt.toISOString()}.`,
    );
  const note = event.note?.trim() || null;
  const effects: Effect[] = [audit(request, "request.break_glass_reviewed", event.actorId, { note })];
  const paged = pagedSources(request.escalationLog);
  if (paged.length > 0) effects.push({ kind: "resolve_pages", requestId: request.id, sources: paged });
  effects.push({ kind: "notify_request", notice: "request.reviewed" });
  return { patch: { reviewedAt: ctx.now, reviewedById: event.actorId, reviewNote: note }, effects };
}

/** Every on-call source the ladder (or break-glass) paged, to resolve once nobody needs them. */
function pagedSources(log: EscalationEntry[]): string[] {
  return [...new Set(log.flatMap((entry) => (entry.paged ? [entry.paged] : [])))];
}

function audit(
  request: RequestRow,
  type: string,
  actorId: string | null,
  data: Record<string, unknown>,
): Effect & { kind: "audit"; event: AuditInput } {
  return { kind: "audit", event: { type, actorId, requestId: request.id, data } };
}
