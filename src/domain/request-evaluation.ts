import type { Policy, PolicyFile, Resource } from "../config/policy-schema.js";
import { resolveSteps, type ResolvedStep } from "./approval-steps.js";
import { autoApprovalFor } from "./auto-approval.js";
import { parseDuration } from "./duration.js";
import type { PolicyBook } from "./policy-book.js";
import { checkDuration, checkText, unreachableStepError } from "./request-rules.js";

/** Turns an access request into what the services need to open it, or the refusal to show. */

export interface RequestInput {
  requesterId: string;
  resourceId: string;
  durationSeconds?: number;
  reason?: string;
  ticket?: string;
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
  autoApproval: { reason: string } | null;
  pendingTimeoutSeconds: number;
  selfApproval: boolean;
  /** The account the connector grants to. */
  principal: string;
  /** Human text, e.g. "policy prod-db: you are in group sre". */
  matchedBecause: string;
}

export function evaluateRequest(book: PolicyBook, groups: PolicyFile["groups"], input: RequestInput, now: Date): RequestEvaluation {
  const { requesterId, resourceId } = input;
  const { resource, policy } = book.authorize(requesterId, resourceId);
  const durationSeconds = checkDuration(policy, resourceId, input.durationSeconds);
  checkText(policy, "reason", resourceId, input.reason);
  checkText(policy, "ticket", resourceId, input.ticket);
  const { steps, unreachable } = resolveSteps(policy, groups, requesterId);
  const requesterGroups = new Set(book.groupsOf(requesterId));
  const autoApproval = autoApprovalFor(policy.autoApprove, { requesterGroups, resource, durationSeconds, now });
  // An auto-approved request needs no approver, so an unreachable step only matters otherwise.
  if (unreachable && !autoApproval) throw unreachableStepError(policy, unreachable);
  return {
    policyId: policy.id,
    policy,
    resourceId,
    resource,
    durationSeconds,
    maxDurationSeconds: parseDuration(policy.duration.max),
    steps,
    autoApproval,
    pendingTimeoutSeconds: parseDuration(policy.pendingTimeout),
    selfApproval: policy.selfApproval,
    principal: book.principalFor(requesterId, resourceId),
    matchedBecause: `policy ${policy.id}: ${book.requesterReason(policy, requesterId)}`,
  };
}
