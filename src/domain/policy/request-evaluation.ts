import { parseDuration } from "../duration.js";
import {
  EMPTY_ROSTER,
  expandSubjects,
  type OnCallRoster,
  type ResolvedStep,
  resolveSteps,
  stepRulesOf,
} from "./approval-steps.js";
import { type AutoApproval, autoApprovalFor, checkAutoApproveRules } from "./auto-approval.js";
import type { PolicyBook } from "./policy-book.js";
import type { Policy, PolicyFile, Resource } from "./policy-schema.js";
import { checkDuration, checkText, noHumanApprovalError, unreachableStepError } from "./request-rules.js";

/** Turns an access request into what the services need to open it, or the refusal to show. */

export interface RequestInput {
  requesterId: string;
  resourceId: string;
  durationSeconds?: number;
  reason?: string;
  ticket?: string;
  /** Who is on call now, for on-call approvers and on-call auto-approval; nobody when absent. */
  onCall?: OnCallRoster;
}

export interface RequestEvaluation {
  policyId: string;
  policy: Policy;
  resourceId: string;
  resource: Resource;
  /** The requested duration, or the policy default when none was asked for. */
  durationSeconds: number;
  maxDurationSeconds: number;
  steps: ResolvedStep[];
  autoApproval: AutoApproval | null;
  /** Said to the requester when an on-call provider could not be asked and people decide instead. */
  onCallFallback: string | null;
  /** The escalation ladder with reroute targets resolved to people. */
  escalation: EscalationPlanStep[];
  /** Approvers who are there because they are on call now. */
  onCallApproverIds: string[];
  pendingTimeoutSeconds: number;
  selfApproval: boolean;
  /** The account the connector grants to. */
  principal: string;
  /** Human text, e.g. "policy prod-db: you are in group sre". */
  matchedBecause: string;
}

export interface EscalationPlanStep {
  afterSeconds: number;
  action: "remind" | "reroute" | "page" | "expire";
  approverIds: string[];
  oncall: string | null;
}

function escalationPlanOf(policy: Policy, groups: PolicyFile["groups"], requesterId: string): EscalationPlanStep[] {
  return policy.escalation.map((step) => ({
    afterSeconds: parseDuration(step.after),
    action: step.action,
    approverIds: step.to
      ? expandSubjects(step.to, groups).filter((id) => policy.selfApproval || id !== requesterId)
      : [],
    oncall: step.oncall ?? null,
  }));
}

export function evaluateRequest(
  book: PolicyBook,
  groups: PolicyFile["groups"],
  input: RequestInput,
  now: Date,
): RequestEvaluation {
  const { requesterId, resourceId } = input;
  const { person, resource, policy } = book.authorize(requesterId, resourceId);
  const durationSeconds = checkDuration(policy, resourceId, input.durationSeconds);
  checkText(policy, "reason", resourceId, input.reason);
  checkText(policy, "ticket", resourceId, input.ticket);
  const roster = input.onCall ?? EMPTY_ROSTER;
  const { steps, unreachable } = resolveSteps(policy, groups, requesterId, roster);
  const requesterGroups = new Set(book.groupsOf(requesterId));
  const autoContext = {
    requesterGroups,
    resource,
    resourceId,
    ticket: input.ticket,
    durationSeconds,
    now,
    requesterId,
    roster,
  };
  const autoApproval = autoApprovalFor(policy.autoApprove, autoContext);
  if (!autoApproval && person.service && !person.service.humanApproval) {
    const unmet = checkAutoApproveRules(policy.autoApprove, autoContext).flatMap((check) => check.unmet);
    throw noHumanApprovalError(policy, input, unmet);
  }
  // An auto-approved request needs no approver, so an unreachable step only matters otherwise.
  if (unreachable && !autoApproval) throw unreachableStepError(policy, unreachable, [...roster.unavailable]);
  const unavailable = policy.autoApprove
    .map((rule) => rule.requesterOnCall)
    .filter((source) => source !== undefined && roster.unavailable.has(source));
  return {
    policyId: policy.id,
    policy,
    resourceId,
    resource,
    durationSeconds,
    maxDurationSeconds: parseDuration(policy.duration.max),
    steps,
    autoApproval,
    onCallFallback:
      !autoApproval && unavailable.length > 0
        ? `On-call for ${unavailable.join(", ")} could not be checked right now, so this request was not auto-approved; it went to the approvers instead.`
        : null,
    escalation: escalationPlanOf(policy, groups, requesterId),
    onCallApproverIds: [
      ...new Set(
        stepRulesOf(policy).flatMap((rule) =>
          rule.approvers.oncall.flatMap((source) => (roster.onCall.get(source) ?? []).map((p) => p.identityId)),
        ),
      ),
    ].sort(),
    pendingTimeoutSeconds: pendingTimeoutSecondsOf(policy),
    selfApproval: policy.selfApproval,
    principal: book.principalFor(requesterId, resourceId),
    matchedBecause: `policy ${policy.id}: ${book.requesterReason(policy, requesterId)}`,
  };
}

/** How long a request of this policy may wait: `pendingTimeout`, or the ladder's expire step when that comes first. */
export function pendingTimeoutSecondsOf(policy: Policy): number {
  const expireStep = policy.escalation.find((step) => step.action === "expire");
  return Math.min(
    parseDuration(policy.pendingTimeout),
    expireStep ? parseDuration(expireStep.after) : Number.POSITIVE_INFINITY,
  );
}
