import { parseDuration } from "../duration.js";
import { AppError } from "../errors.js";
import type { ResourceActions } from "../policy/action-schema.js";
import {
  EMPTY_ROSTER,
  expandSubjects,
  type OnCallRoster,
  type ResolvedStep,
  resolveSteps,
} from "../policy/approval-steps.js";
import type { Policy, PolicyFile, Resource } from "../policy/policy-schema.js";
import { unreachableStepError } from "../policy/request-rules.js";
import type { ActionClass, ActionClassification } from "./action-kind.js";

/**
 * What the policy says about one classified action: refused (thrown, with the reason to show),
 * approved by a rule (its reason), or the approval steps people must pass. Pure.
 */

export interface ActionEvaluation {
  steps: ResolvedStep[];
  autoApprovalReason: string | null;
  limits: ActionLimits;
}

/** How the executor runs it, frozen into the request at submission. */
export interface ActionLimits {
  rowLimit: number;
  maxAffectedRows: number | null;
  statementTimeoutMs: number;
}

export interface ActionEvaluationInput {
  requesterId: string;
  requesterGroups: readonly string[];
  resourceId: string;
  resource: Resource;
  policy: Policy;
  groups: PolicyFile["groups"];
  classification: ActionClassification;
  onCall?: OnCallRoster;
}

export function actionsOf(resourceId: string, resource: Resource): ResourceActions {
  if (!resource.actions)
    throw new AppError(
      "policy_violation",
      `Resource ${resourceId} does not allow actions; request access instead, or ask an admin to add an actions block.`,
    );
  return resource.actions;
}

export function evaluateAction(input: ActionEvaluationInput): ActionEvaluation {
  const actions = actionsOf(input.resourceId, input.resource);
  const { requesters } = actions;
  if (
    requesters &&
    !requesters.users.includes(input.requesterId) &&
    !requesters.groups.some((group) => input.requesterGroups.includes(group))
  )
    throw new AppError(
      "forbidden",
      `You may not request actions on ${input.resourceId}; only its action requesters may.`,
    );
  const { class: actionClass, why } = input.classification;
  if (actionClass === "refused") throw new AppError("policy_violation", `Sesame refuses to run this: ${why}.`);
  const rule = actions.classes[actionClass];
  if (rule.refuse)
    throw new AppError(
      "policy_violation",
      `The policy refuses ${describeClass(actionClass)} on ${input.resourceId} (${why}); nothing was requested.`,
      { details: { class: actionClass } },
    );
  const ruled: Policy =
    rule.steps || rule.approvers
      ? {
          ...input.policy,
          steps: rule.steps,
          approvers: rule.approvers,
          requiredApprovals: rule.requiredApprovals,
        }
      : input.policy;
  const { steps, unreachable } = resolveSteps(ruled, input.groups, input.requesterId, input.onCall ?? EMPTY_ROSTER);
  const autoApprovalReason = rule.autoApprove ? `${rule.autoApprove.reason} (${describeClass(actionClass)})` : null;
  if (!autoApprovalReason && (steps.length === 0 || unreachable))
    throw unreachable ? unreachableStepError(ruled, unreachable, []) : noApprovers(input.resourceId, actionClass);
  return {
    steps,
    autoApprovalReason,
    limits: {
      rowLimit: actions.rowLimit,
      maxAffectedRows: actions.maxAffectedRows ?? null,
      statementTimeoutMs: parseDuration(actions.statementTimeout) * 1000,
    },
  };
}

/** Everyone the resource's action rules name as an approver (for decisions under the current policy). */
export function actionApproversOf(resource: Resource | undefined, groups: PolicyFile["groups"]): string[] {
  const classes = resource?.actions?.classes;
  if (!classes) return [];
  const sets = Object.values(classes).flatMap((rule) => [
    ...(rule.approvers ? [rule.approvers] : []),
    ...(rule.steps ?? []).map((step) => step.approvers),
  ]);
  return [...new Set(sets.flatMap((set) => expandSubjects(set, groups)))].sort();
}

export function describeClass(actionClass: ActionClass): string {
  switch (actionClass) {
    case "read":
      return "read-only SQL";
    case "write":
      return "SQL that changes data";
    case "unbounded_write":
      return "UPDATE/DELETE without WHERE";
    case "ddl":
      return "DDL (schema changes)";
    case "restart":
      return "a Kubernetes rollout restart";
    case "scale":
      return "a Kubernetes scale";
    case "delete":
      return "a Kubernetes pod deletion";
    case "command":
      return "a runner command";
    case "refused":
      return "a refused action";
  }
}

function noApprovers(resourceId: string, actionClass: ActionClass): AppError {
  return new AppError(
    "policy_violation",
    `Nobody can approve ${describeClass(actionClass)} on ${resourceId}: the policy names no approvers for it.`,
  );
}
