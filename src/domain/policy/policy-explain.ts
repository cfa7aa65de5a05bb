import { describeClass, evaluateAction } from "../actions/action-evaluation.js";
import {
  type ActionKind,
  actionKindOf,
  CLASSES_OF_KIND,
  describeKind,
  type RuledActionClass,
} from "../actions/action-kind.js";
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
  /** For a resource with an `actions:` block: what each class of its kind of action would get. */
  actions: ActionsExplanation | null;
  /** The same answer as text, one statement per line. */
  lines: string[];
}

export interface ActionClassExplanation {
  class: RuledActionClass;
  outcome: "refused" | "auto_approve" | "needs_approval";
  /** The auto-approval reason, or why it is refused. */
  why: string | null;
  steps: ResolvedStep[];
}

export interface ActionsExplanation {
  /** What the resource's connector runs: SQL, Kubernetes operations or runner commands. */
  kind: ActionKind;
  /** Whether this requester may ask for actions at all (the block's `requesters`). */
  mayRequest: boolean;
  classes: ActionClassExplanation[];
  rowLimit: number;
  maxAffectedRows: number | null;
  statementTimeout: string;
}

export interface ExplainQuery {
  requesterId: string;
  resourceId: string;
  now: Date;
  durationSeconds: number | undefined;
  /** Who is on call now (the CLI asks the providers); nobody when absent. */
  onCall?: OnCallRoster;
  /** The type of the resource's connector (MariaDB/MySQL refuse DDL whatever the policy says). */
  connectorType?: string;
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
      actions: null,
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
    actions: null,
    reason: textRequirement(policy, "reason"),
    ticket: textRequirement(policy, "ticket"),
    principal: principal.value,
    lines: [],
  };
  explanation.lines = explanationLines(explanation, policy, resource.connector);
  if (resource.actions) {
    explanation.actions = explainActions(book, groups, query, resource, policy);
    explanation.lines.push(...actionLines(explanation.actions, query.requesterId));
  }
  return explanation;
}

/** Each class of the resource's kind of action as submitAction would treat it, for this requester, now. */
function explainActions(
  book: PolicyBook,
  groups: PolicyFile["groups"],
  query: ExplainQuery,
  resource: Parameters<typeof evaluateAction>[0]["resource"],
  policy: Policy,
): ActionsExplanation {
  const actions = resource.actions!;
  const requesterGroups = book.groupsOf(query.requesterId);
  const { requesters } = actions;
  const mayRequest =
    !requesters ||
    requesters.users.includes(query.requesterId) ||
    requesters.groups.some((group) => requesterGroups.includes(group));
  const kind = actionKindOf(query.connectorType ?? "noop", actions.kinds) ?? "sql";
  const classes = CLASSES_OF_KIND[kind].map((actionClass): ActionClassExplanation => {
    if (actionClass === "ddl" && query.connectorType === "mysql")
      return {
        class: actionClass,
        outcome: "refused",
        why: "DDL commits implicitly on MariaDB/MySQL: never run as an action",
        steps: [],
      };
    if (actions.classes[actionClass].refuse)
      return { class: actionClass, outcome: "refused", why: "the policy refuses it", steps: [] };
    const evaluated = attempt(() =>
      evaluateAction({
        requesterId: query.requesterId,
        requesterGroups,
        resourceId: query.resourceId,
        resource,
        policy,
        groups,
        classification: { class: actionClass, why: describeClass(actionClass) },
        ...(query.onCall ? { onCall: query.onCall } : {}),
      }),
    );
    if (evaluated.refusal) return { class: actionClass, outcome: "refused", why: evaluated.refusal.message, steps: [] };
    const { autoApprovalReason, steps } = evaluated.value;
    return autoApprovalReason
      ? {
          class: actionClass,
          outcome: "auto_approve",
          why: actions.classes[actionClass].autoApprove?.reason ?? autoApprovalReason,
          steps: [],
        }
      : { class: actionClass, outcome: "needs_approval", why: null, steps };
  });
  return {
    kind,
    mayRequest,
    classes,
    rowLimit: actions.rowLimit,
    maxAffectedRows: actions.maxAffectedRows ?? null,
    statementTimeout: actions.statementTimeout,
  };
}

const ONE_ACTION: Record<ActionKind, string> = {
  sql: "one SQL statement",
  kubernetes: "one Kubernetes operation",
  command: "one runner command",
};

function actionLines(actions: ActionsExplanation, requesterId: string): string[] {
  const heading = `Actions (${ONE_ACTION[actions.kind]}, run once)`;
  if (!actions.mayRequest) return [`${heading}: ${requesterId} may not request them (not an action requester).`];
  return [
    `${heading}: ${requesterId} may request them.`,
    ...actions.classes.map((entry) => {
      const what = describeClass(entry.class);
      if (entry.outcome === "refused") return `  - ${what}: refused (${entry.why}).`;
      if (entry.outcome === "auto_approve") return `  - ${what}: runs without approval (${entry.why}).`;
      const steps = entry.steps
        .map((step) => `${step.name}: ${step.required} of ${step.approverIds.join(", ") || "nobody"}`)
        .join("; then ");
      return `  - ${what}: needs approval (${steps}).`;
    }),
    actions.kind === "sql"
      ? `  Limits: at most ${actions.rowLimit} rows returned; ${
          actions.maxAffectedRows === null
            ? "no cap on changed rows"
            : `a write changing more than ${actions.maxAffectedRows} rows is rolled back`
        }; statement timeout ${actions.statementTimeout}.`
      : `  Limits: each ${describeKind(actions.kind)} has ${actions.statementTimeout} to answer.`,
  ];
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
