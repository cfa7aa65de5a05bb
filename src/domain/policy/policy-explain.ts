import { parseDuration } from "../duration.js";
import { type AppError, type AppErrorCode, isAppError } from "../errors.js";
import {
  EMPTY_ROSTER,
  expandApprovers,
  type OnCallRoster,
  type ResolvedStep,
  resolveSteps,
  stepRulesOf,
} from "./approval-steps.js";
import { type AutoApprovalRuleCheck, checkAutoApproveRules } from "./auto-approval.js";
import { explanationLines, refusedLines } from "./explanation-lines.js";
import type { PolicyBook } from "./policy-book.js";
import type { Policy, PolicyFile } from "./policy-schema.js";
import { checkDuration, noHumanApprovalError, unreachableStepError } from "./request-rules.js";

/**
 * `sesame policy explain`: what would happen to a request, and why, without sending anything.
 * Refusals are part of the answer, never thrown, so an admin can ask about anyone and anything.
 */

export interface TextRequirementExplanation {
  required: boolean;
  pattern: string | null;
  hint: string | null;
}

export interface Refusal {
  code: AppErrorCode;
  message: string;
}

export interface PolicyExplanation {
  requesterId: string;
  resourceId: string;
  outcome: "refused" | "auto_approve" | "needs_approval";
  refusal: Refusal | null;
  policyId: string | null;
  matchedBecause: string | null;
  duration: { requestedSeconds: number; defaultSeconds: number; maxSeconds: number } | null;
  steps: Array<ResolvedStep & { requesterExcluded: boolean }>;
  selfApproval: boolean;
  autoApproval: { reason: string } | null;
  /** Every rule in order, with why it did or did not apply. */
  autoApprovalRules: AutoApprovalRuleCheck[];
  reason: TextRequirementExplanation | null;
  ticket: TextRequirementExplanation | null;
  principal: string | null;
  /** What would happen while nobody answers, in order. */
  escalation: { afterSeconds: number; action: string; text: string }[];
  /** The same answer as text, one statement per line. */
  lines: string[];
}

export interface ExplainQuery {
  requesterId: string;
  resourceId: string;
  now: Date;
  durationSeconds: number | undefined;
  /** Who is on call now (the CLI asks the providers); nobody when absent. */
  onCall?: OnCallRoster;
}

const asRefusal = (error: AppError): Refusal => ({ code: error.code, message: error.userMessage });

/** Runs `run`; an AppError becomes a refusal instead of escaping. */
function attempt<T>(run: () => T): { value: T; refusal: null } | { value: null; refusal: Refusal } {
  try {
    return { value: run(), refusal: null };
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { value: null, refusal: asRefusal(error) };
  }
}

export function explainRequest(book: PolicyBook, groups: PolicyFile["groups"], query: ExplainQuery): PolicyExplanation {
  const { requesterId, resourceId, now } = query;
  const match = attempt(() => book.authorize(requesterId, resourceId));
  if (match.refusal) {
    return {
      requesterId,
      resourceId,
      outcome: "refused",
      refusal: match.refusal,
      policyId: null,
      matchedBecause: null,
      duration: null,
      steps: [],
      selfApproval: false,
      autoApproval: null,
      autoApprovalRules: [],
      escalation: [],
      reason: null,
      ticket: null,
      principal: null,
      lines: refusedLines(requesterId, resourceId, match.refusal, book.policiesListing(resourceId)),
    };
  }
  const { person, resource, policy } = match.value;
  const defaultSeconds = parseDuration(policy.duration.default);
  const requestedSeconds = query.durationSeconds ?? defaultSeconds;
  const rules = stepRulesOf(policy);
  const roster = query.onCall ?? EMPTY_ROSTER;
  const { steps, unreachable } = resolveSteps(policy, groups, requesterId, roster);
  const requesterGroups = new Set(book.groupsOf(requesterId));
  const autoApprovalRules = checkAutoApproveRules(policy.autoApprove, {
    requesterGroups,
    resource,
    resourceId,
    durationSeconds: requestedSeconds,
    now,
    requesterId,
    roster,
  });
  const firstMatch = autoApprovalRules.find((rule) => rule.matched);
  const autoApproval = firstMatch ? { reason: firstMatch.reason } : null;
  const principal = attempt(() => book.principalFor(requesterId, resourceId));
  const refusal =
    attempt(() => checkDuration(policy, resourceId, query.durationSeconds)).refusal ??
    principal.refusal ??
    (!autoApproval && person.service && !person.service.humanApproval
      ? asRefusal(noHumanApprovalError(policy, query))
      : null) ??
    (unreachable && !autoApproval ? asRefusal(unreachableStepError(policy, unreachable)) : null);
  const explanation: PolicyExplanation = {
    requesterId,
    resourceId,
    outcome: refusal ? "refused" : autoApproval ? "auto_approve" : "needs_approval",
    refusal,
    policyId: policy.id,
    matchedBecause: `policy ${policy.id}: ${book.requesterReason(policy, requesterId)}`,
    duration: { requestedSeconds, defaultSeconds, maxSeconds: parseDuration(policy.duration.max) },
    steps: steps.map((step, index) => {
      const everyone = rules[index] ? expandApprovers(rules[index].approvers, groups, roster) : [];
      return { ...step, requesterExcluded: !policy.selfApproval && everyone.includes(requesterId) };
    }),
    selfApproval: policy.selfApproval,
    autoApproval,
    autoApprovalRules,
    escalation: escalationPlan(policy, groups, roster),
    reason: textRequirement(policy, "reason"),
    ticket: textRequirement(policy, "ticket"),
    principal: principal.value,
    lines: [],
  };
  explanation.lines = explanationLines(explanation, policy, resource.connector);
  return explanation;
}

function escalationPlan(
  policy: Policy,
  groups: PolicyFile["groups"],
  roster: OnCallRoster,
): PolicyExplanation["escalation"] {
  return policy.escalation.map((step) => {
    const afterSeconds = parseDuration(step.after);
    const at = `after ${step.after}`;
    switch (step.action) {
      case "remind":
        return {
          afterSeconds,
          action: step.action,
          text: `${at}: remind the approvers (a message that notifies them)`,
        };
      case "reroute":
        return {
          afterSeconds,
          action: step.action,
          text: `${at}: also ask ${expandApprovers({ ...step.to!, oncall: [] }, groups, roster).join(", ") || "nobody"}`,
        };
      case "page": {
        const source = step.oncall!;
        const now = roster.unavailable.has(source)
          ? "unknown right now (provider unavailable)"
          : (roster.onCall.get(source) ?? []).map((p) => p.identityId).join(", ") || "nobody Sesame knows";
        return {
          afterSeconds,
          action: step.action,
          text: `${at}: page on-call ${source} and ask them to approve (on call now: ${now})`,
        };
      }
    }
    return {
      afterSeconds,
      action: step.action,
      text: `${at}: expire the request and tell the requester whom to contact`,
    };
  });
}

function textRequirement(policy: Policy, field: "reason" | "ticket"): TextRequirementExplanation {
  const { required, pattern, hint } = policy[field];
  return { required, pattern: pattern ?? null, hint: hint ?? null };
}
