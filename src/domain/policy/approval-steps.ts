import type { ApproverSet, Policy, PolicyFile, SubjectSet } from "./policy-schema.js";

/** Who approves a policy's requests, with groups expanded to person ids. */

export interface ResolvedStep {
  name: string;
  /** Distinct person ids, sorted; the requester is already removed unless self-approval is on. */
  approverIds: string[];
  /** Distinct approvals this step needs (N of M). */
  required: number;
}

export interface StepRule {
  name: string;
  approvers: ApproverSet;
  required: number;
  /** Where the rule's `required` lives in the policy, for problem reports. */
  requiredPath: Array<string | number>;
}

/** The policy's ordered steps; the `approvers` + `requiredApprovals` shorthand is one step. */
export function stepRulesOf(policy: Policy): StepRule[] {
  if (policy.steps) {
    return policy.steps.map((step, index) => ({
      name: step.name ?? `step ${index + 1}`,
      approvers: step.approvers,
      required: step.required,
      requiredPath: ["steps", index, "required"],
    }));
  }
  if (policy.approvers) {
    const requiredPath = policy.requiredApprovals === undefined ? ["approvers"] : ["requiredApprovals"];
    return [{ name: "approval", approvers: policy.approvers, required: policy.requiredApprovals ?? 1, requiredPath }];
  }
  return [];
}

export function expandSubjects(subjects: SubjectSet, groups: PolicyFile["groups"]): string[] {
  const ids = new Set(subjects.users);
  for (const group of subjects.groups) {
    // hasOwn: "constructor" is a valid group id and must not find Object.prototype.constructor.
    for (const member of Object.hasOwn(groups, group) ? (groups[group] ?? []) : []) ids.add(member);
  }
  return [...ids].sort();
}

/**
 * Who is on call right now, per on-call source, as Sesame identities (only sources whose provider
 * answered). `unavailable` names the sources that could not be asked.
 */
export interface OnCallRoster {
  onCall: ReadonlyMap<string, { identityId: string; until: Date | null }[]>;
  unavailable: ReadonlySet<string>;
}

export const EMPTY_ROSTER: OnCallRoster = { onCall: new Map(), unavailable: new Set() };

/** Approvers with groups expanded and on-call sources filled in from the roster. */
export function expandApprovers(approvers: ApproverSet, groups: PolicyFile["groups"], roster: OnCallRoster): string[] {
  const ids = new Set(expandSubjects(approvers, groups));
  for (const source of approvers.oncall)
    for (const person of roster.onCall.get(source) ?? []) ids.add(person.identityId);
  return [...ids].sort();
}

export interface StepResolution {
  steps: ResolvedStep[];
  /** The first step that cannot collect its approvals, if any. */
  unreachable: { step: ResolvedStep; requesterExcluded: boolean } | undefined;
}

export function resolveSteps(
  policy: Policy,
  groups: PolicyFile["groups"],
  requesterId: string,
  roster: OnCallRoster = EMPTY_ROSTER,
): StepResolution {
  let unreachable: StepResolution["unreachable"];
  const steps = stepRulesOf(policy).map((rule): ResolvedStep => {
    const everyone = expandApprovers(rule.approvers, groups, roster);
    const approverIds = policy.selfApproval ? everyone : everyone.filter((id) => id !== requesterId);
    const step = { name: rule.name, approverIds, required: rule.required };
    if (unreachable === undefined && approverIds.length < rule.required) {
      unreachable = { step, requesterExcluded: approverIds.length < everyone.length };
    }
    return step;
  });
  return { steps, unreachable };
}
