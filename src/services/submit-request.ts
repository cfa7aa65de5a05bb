import { draftRequest, type RequestRow, type RequestSnapshot } from "../domain/access-request.js";
import type { AccessTrigger } from "../domain/access-trigger.js";
import { formatDuration, parseDuration, toSeconds } from "../domain/duration.js";
import { AppError } from "../domain/errors.js";
import type { AutoApproval } from "../domain/policy/auto-approval.js";
import type { RequestEvaluation } from "../domain/policy/policy-book.js";
import type { ServiceDeps } from "./deps.js";
import { rosterFor } from "./on-call-roster.js";
import type { ConnectorProvider } from "./ports.js";
import { storeNewRequest } from "./store-new-request.js";

export interface SubmitRequestInput {
  requesterId: string;
  resourceId: string;
  /** Seconds, or a duration text such as "1h"; the policy default when absent. */
  duration?: number | string;
  reason?: string;
  ticket?: string;
  /** Emergency access: granted at once when the policy allows it, paged, and reviewed afterwards. */
  breakGlass?: boolean;
  /**
   * Opened by a signed event, approved by the `eventAccess` rule named in `approval` (checked by
   * the caller, never taken from an API body). Recorded in the snapshot and the audit log.
   */
  trigger?: { detail: AccessTrigger; approval: string };
}

export function snapshotOf(evaluation: RequestEvaluation, connectors: ConnectorProvider): RequestSnapshot {
  const extension = evaluation.policy.extension;
  const connectorName = evaluation.resource.connector;
  return {
    policyId: evaluation.policyId,
    steps: evaluation.steps,
    selfApproval: evaluation.selfApproval,
    matchedBecause: evaluation.matchedBecause,
    maxDurationSeconds: evaluation.maxDurationSeconds,
    extension: {
      requiresApproval: extension.requiresApproval,
      maxTotalSeconds: extension.maxTotal ? parseDuration(extension.maxTotal) : evaluation.maxDurationSeconds,
    },
    connectorName,
    target: evaluation.resource.target,
    principal: evaluation.principal,
    entitlementKey: connectors.entitlementKeyFor(connectorName, evaluation.resource.target, evaluation.principal),
    escalation: evaluation.escalation,
    onCallApproverIds: evaluation.onCallApproverIds,
    ...(evaluation.onCallFallback ? { onCallNote: evaluation.onCallFallback } : {}),
  };
}

/** Break-glass needs the policy's consent, a reason, and stays within its own (short) maximum. */
function breakGlassApproval(evaluation: RequestEvaluation, reason: string | undefined): AutoApproval {
  const rule = evaluation.policy.breakGlass;
  if (!rule)
    throw new AppError(
      "policy_violation",
      `Break-glass is not allowed for ${evaluation.resourceId} (policy ${evaluation.policyId}); request it normally.`,
    );
  const maxSeconds = parseDuration(rule.maxDuration);
  if (evaluation.durationSeconds > maxSeconds) {
    throw new AppError(
      "policy_violation",
      `Break-glass access to ${evaluation.resourceId} lasts at most ${formatDuration(maxSeconds)}.`,
      { details: { field: "durationSeconds", maxSeconds } },
    );
  }
  if (!reason?.trim())
    throw new AppError("invalid_input", "Break-glass needs a reason: say what is on fire.", {
      details: { field: "reason" },
    });
  return { reason: `break-glass: ${reason.trim()}` };
}

/** Submits an access request: checks it against the policy, stores it, and auto-approves when a rule says so. */
export async function submitRequest(deps: ServiceDeps, input: SubmitRequestInput): Promise<RequestRow> {
  const { draft, autoApprovalReason } = await draftSubmission(deps, input);
  if (!autoApprovalReason) await refuseOverPendingCap(deps, draft);
  return storeNewRequest(deps, draft, autoApprovalReason);
}

/**
 * The policy's `maxPendingPerRequester`: a request that would wait for people is refused while the
 * requester already has that many waiting under the same policy (so one person cannot flood the
 * approvers). A check before the insert: two submissions at the same instant may both pass it.
 */
async function refuseOverPendingCap(deps: ServiceDeps, draft: RequestRow): Promise<void> {
  const cap = deps.policy().policy(draft.policyId)?.maxPendingPerRequester;
  if (cap === undefined) return;
  const pending = await deps.store.listRequests({ requesterId: draft.requesterId, status: ["pending"], limit: 1_000 });
  const waiting = pending.filter((r) => r.policyId === draft.policyId).length;
  if (waiting >= cap)
    throw new AppError(
      "policy_violation",
      `You already have ${waiting} request(s) waiting for approval under policy ${draft.policyId}, its maximum. Cancel one or wait for a decision before asking again. Nothing was requested.`,
      { details: { policyId: draft.policyId, maxPendingPerRequester: cap } },
    );
}

/**
 * The request a submission would store, checked against the policy, and why it approves itself
 * (null when people decide). Nothing is written yet.
 */
export async function draftSubmission(
  deps: ServiceDeps,
  input: SubmitRequestInput,
): Promise<{ draft: RequestRow; autoApprovalReason: string | null }> {
  const now = deps.now();
  const book = deps.policy();
  const requestedSeconds = input.duration === undefined ? undefined : toSeconds(input.duration);
  const matched = book.matchPolicy(input.requesterId, input.resourceId);
  // Pages come later (escalation, break-glass); at submission only approvers and auto-approval need to know.
  const sources = matched ? book.onCallSourcesOf(matched) : { approvers: [], autoApproval: [] };
  const onCall = await rosterFor(deps, [...sources.approvers, ...sources.autoApproval]);
  const evaluation = book.evaluateRequest(
    {
      requesterId: input.requesterId,
      resourceId: input.resourceId,
      ...(requestedSeconds === undefined ? {} : { durationSeconds: requestedSeconds }),
      ...(input.reason ? { reason: input.reason } : {}),
      ...(input.ticket ? { ticket: input.ticket } : {}),
      onCall,
    },
    now,
  );
  const autoApproval: AutoApproval | null = input.breakGlass
    ? breakGlassApproval(evaluation, input.reason)
    : input.trigger
      ? { reason: input.trigger.approval }
      : evaluation.autoApproval;
  // On-call auto-approval may end with the requester's shift.
  const endsBy = autoApproval?.endsBy;
  const durationSeconds = endsBy
    ? Math.min(evaluation.durationSeconds, Math.floor((endsBy.getTime() - now.getTime()) / 1000))
    : evaluation.durationSeconds;
  const draft = draftRequest(
    {
      kind: "access",
      requesterId: input.requesterId,
      resourceId: input.resourceId,
      policyId: evaluation.policyId,
      durationSeconds,
      reason: input.reason?.trim() || null,
      ticket: input.ticket?.trim() || null,
      snapshot: {
        ...snapshotOf(evaluation, deps.connectors),
        ...(input.trigger ? { trigger: input.trigger.detail } : {}),
      },
      autoApprovalReason: null,
      extendsGrantId: null,
      pendingUntil: new Date(now.getTime() + evaluation.pendingTimeoutSeconds * 1000),
      breakGlass: input.breakGlass === true,
    },
    { now, newId: deps.newId },
  );
  return { draft, autoApprovalReason: autoApproval?.reason ?? null };
}
