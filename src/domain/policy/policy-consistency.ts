import { parseDuration } from "../duration.js";
import { checkActionKinds } from "./action-consistency.js";
import { expandSubjects, stepRulesOf } from "./approval-steps.js";
import { eventAccessProblems } from "./event-access.js";
import { checkGuardrailConsistency } from "./guardrail-consistency.js";
import type { ApproverSet, Policy, PolicyFile, SubjectSet } from "./policy-schema.js";
import { principalTemplateProblems } from "./principal-template.js";
import { isValidTimeZone } from "./time-window.js";

/**
 * Rules a policy file must follow beyond its schema: every name it uses is defined, nothing is
 * defined twice, and every policy can actually be approved. Problems carry the path of the
 * offending value so the loader can point at its line.
 */

export type ProblemPath = Array<string | number>;
export interface PolicyProblem {
  path: ProblemPath;
  message: string;
}
type Report = (path: ProblemPath, message: string) => void;

export function checkPolicyConsistency(file: PolicyFile): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const report: Report = (path, message) => problems.push({ path, message });
  checkPeople(file, report);
  for (const [group, members] of Object.entries(file.groups)) {
    for (const [index, member] of members.entries()) checkPerson(file, member, ["groups", group, index], report);
  }
  for (const [id, resource] of Object.entries(file.resources)) {
    if (!Object.hasOwn(file.connectors, resource.connector)) {
      report(
        ["resources", id, "connector"],
        `unknown connector "${resource.connector}" (defined: ${namesOf(file.connectors)})`,
      );
    }
    for (const problem of principalTemplateProblems(resource.principal))
      report(["resources", id, "principal"], problem);
    checkActions(file, resource, ["resources", id, "actions"], report);
  }
  reportDuplicates(
    file.policies.map((policy) => policy.id),
    "policies",
    "id",
    "policy id",
    report,
  );
  for (const [index, policy] of file.policies.entries()) checkPolicy(file, policy, ["policies", index], report);
  checkGuardrailConsistency(file, report);
  for (const problem of eventAccessProblems(file.eventAccess, {
    resources: new Set(Object.keys(file.resources)),
    people: new Set(file.people.map((person) => person.id)),
    groups: new Set(Object.keys(file.groups)),
  }))
    report(problem.path, problem.message);
  file.incidentAccess.forEach((rule, index) => {
    rule.resources.forEach((resource, i) => {
      if (!Object.hasOwn(file.resources, resource))
        report(
          ["incidentAccess", index, "resources", i],
          `unknown resource "${resource}" (defined: ${namesOf(file.resources)})`,
        );
    });
  });
  return problems;
}

/** A resource's actions block names people, groups and on-call sources that exist, and its connector can run its kind of action. */
function checkActions(
  file: PolicyFile,
  resource: PolicyFile["resources"][string],
  at: ProblemPath,
  report: Report,
): void {
  const actions = resource.actions;
  if (!actions) return;
  const type = Object.hasOwn(file.connectors, resource.connector)
    ? file.connectors[resource.connector]?.type
    : undefined;
  if (type !== undefined) checkActionKinds(resource, type, at, report);
  if (actions.requesters) checkSubjects(file, actions.requesters, [...at, "requesters"], report);
  for (const [name, rule] of Object.entries(actions.classes)) {
    if (rule.approvers) checkApprovers(file, rule.approvers, [...at, "classes", name, "approvers"], report);
    for (const [index, step] of (rule.steps ?? []).entries())
      checkApprovers(file, step.approvers, [...at, "classes", name, "steps", index, "approvers"], report);
  }
}

function checkPeople(file: PolicyFile, report: Report): void {
  reportDuplicates(
    file.people.map((person) => person.id),
    "people",
    "id",
    "person id",
    report,
  );
  reportDuplicates(
    file.people.map((person) => person.email.toLowerCase()),
    "people",
    "email",
    "email",
    report,
  );
  reportDuplicates(
    file.people.map((person) => person.slack),
    "people",
    "slack",
    "Slack user id",
    report,
  );
  reportDuplicates(
    file.people.map((person) => person.teams),
    "people",
    "teams",
    "Teams object id",
    report,
  );
  file.people.forEach((person, index) => {
    for (const [i, resource] of (person.service?.resources ?? []).entries()) {
      if (!Object.hasOwn(file.resources, resource))
        report(
          ["people", index, "service", "resources", i],
          `unknown resource "${resource}" (defined: ${namesOf(file.resources)})`,
        );
    }
    for (const connector of Object.keys(person.principals ?? {})) {
      if (!Object.hasOwn(file.connectors, connector)) {
        report(
          ["people", index, "principals", connector],
          `unknown connector "${connector}" (defined: ${namesOf(file.connectors)})`,
        );
      }
    }
  });
}

function checkPolicy(file: PolicyFile, policy: Policy, at: ProblemPath, report: Report): void {
  policy.resources.forEach((resource, index) => {
    if (!Object.hasOwn(file.resources, resource)) {
      report([...at, "resources", index], `unknown resource "${resource}" (defined: ${namesOf(file.resources)})`);
    }
  });
  checkSubjects(file, policy.requesters, [...at, "requesters"], report);
  if (policy.approvers) checkApprovers(file, policy.approvers, [...at, "approvers"], report);
  for (const [index, step] of (policy.steps ?? []).entries()) {
    checkApprovers(file, step.approvers, [...at, "steps", index, "approvers"], report);
  }
  checkEscalation(file, policy, at, report);

  if (policy.steps && policy.approvers) report([...at, "steps"], "use either steps or approvers, not both");
  if (!policy.steps && !policy.approvers) report(at, `policy ${policy.id} names no approvers: add approvers or steps`);
  if (policy.steps && policy.requiredApprovals !== undefined) {
    report([...at, "requiredApprovals"], "only applies to the approvers shorthand; give each step its own required");
  }
  for (const rule of stepRulesOf(policy)) {
    // A step naming someone undefined is already reported; counting it too would only add noise.
    if (!namesAreDefined(file, rule.approvers)) continue;
    // Whoever is on call is only known when a request arrives.
    if (rule.approvers.oncall.length > 0) continue;
    const count = expandSubjects(rule.approvers, file.groups).length;
    if (count < rule.required) {
      const approvals = rule.required === 1 ? "1 approval" : `${rule.required} approvals`;
      const who = count === 0 ? "nobody can" : `only ${count} ${count === 1 ? "person can" : "people can"}`;
      report([...at, ...rule.requiredPath], `step "${rule.name}" needs ${approvals} but ${who} approve`);
    }
  }

  for (const field of ["reason", "ticket"] as const) {
    const pattern = policy[field].pattern;
    if (pattern === undefined) continue;
    try {
      new RegExp(pattern);
    } catch (error) {
      report([...at, field, "pattern"], `is not a valid regular expression (${(error as Error).message})`);
    }
  }

  policy.autoApprove.forEach((rule, index) => {
    const ruleAt = [...at, "autoApprove", index];
    if (rule.requester !== undefined) checkPerson(file, rule.requester, [...ruleAt, "requester"], report);
    for (const [i, resource] of (rule.resources ?? []).entries()) {
      if (!policy.resources.includes(resource))
        report([...ruleAt, "resources", i], `"${resource}" is not one of this policy's resources`);
    }
    if (rule.ticketPattern !== undefined) {
      try {
        new RegExp(rule.ticketPattern);
      } catch (error) {
        report([...ruleAt, "ticketPattern"], `is not a valid regular expression (${(error as Error).message})`);
      }
    }
    if (rule.requesterInGroup !== undefined)
      checkGroup(file, rule.requesterInGroup, [...ruleAt, "requesterInGroup"], report);
    const window = rule.withinTimeWindow;
    if (window && !isValidTimeZone(window.timezone)) {
      report(
        [...ruleAt, "withinTimeWindow", "timezone"],
        `"${window.timezone}" is not an IANA time zone (e.g. Europe/Paris)`,
      );
    }
    if (window && window.start === window.end) report([...ruleAt, "withinTimeWindow", "end"], "must differ from start");
    if (rule.requesterOnCall !== undefined)
      checkOnCall(file, rule.requesterOnCall, [...ruleAt, "requesterOnCall"], report);
  });

  const maxTotal = policy.extension.maxTotal;
  if (maxTotal !== undefined && parseDuration(maxTotal) < parseDuration(policy.duration.max)) {
    report([...at, "extension", "maxTotal"], `must not be shorter than duration.max (${policy.duration.max})`);
  }
}

function checkSubjects(file: PolicyFile, subjects: SubjectSet, at: ProblemPath, report: Report): void {
  for (const [index, user] of subjects.users.entries()) checkPerson(file, user, [...at, "users", index], report);
  for (const [index, group] of subjects.groups.entries()) checkGroup(file, group, [...at, "groups", index], report);
}

function checkApprovers(file: PolicyFile, approvers: ApproverSet, at: ProblemPath, report: Report): void {
  checkSubjects(file, approvers, at, report);
  for (const [index, name] of approvers.oncall.entries()) checkOnCall(file, name, [...at, "oncall", index], report);
}

function checkOnCall(file: PolicyFile, name: string, path: ProblemPath, report: Report): void {
  if (!Object.hasOwn(file.oncall, name))
    report(path, `unknown on-call source "${name}" (defined in oncall: ${namesOf(file.oncall)})`);
}

function checkEscalation(file: PolicyFile, policy: Policy, at: ProblemPath, report: Report): void {
  let previous = 0;
  policy.escalation.forEach((step, index) => {
    const stepAt = [...at, "escalation", index];
    const after = parseDuration(step.after);
    if (after <= previous) report([...stepAt, "after"], "must be later than the step before it");
    previous = Math.max(previous, after);
    if (step.to) checkSubjects(file, step.to, [...stepAt, "to"], report);
    if (step.oncall !== undefined) checkOnCall(file, step.oncall, [...stepAt, "oncall"], report);
    if (step.action === "expire" && index !== policy.escalation.length - 1)
      report([...stepAt, "action"], "expire ends the ladder: it must be the last step");
  });
  if (policy.breakGlass?.page !== undefined)
    checkOnCall(file, policy.breakGlass.page, [...at, "breakGlass", "page"], report);
  if (policy.breakGlass && parseDuration(policy.breakGlass.maxDuration) > parseDuration(policy.duration.max)) {
    report([...at, "breakGlass", "maxDuration"], `must not be longer than duration.max (${policy.duration.max})`);
  }
}

function namesAreDefined(file: PolicyFile, subjects: SubjectSet): boolean {
  return (
    subjects.users.every((user) => file.people.some((person) => person.id === user)) &&
    subjects.groups.every((group) => Object.hasOwn(file.groups, group))
  );
}

function checkPerson(file: PolicyFile, id: string, path: ProblemPath, report: Report): void {
  if (!file.people.some((person) => person.id === id)) report(path, `unknown person "${id}" (add them to people)`);
}

function checkGroup(file: PolicyFile, id: string, path: ProblemPath, report: Report): void {
  if (!Object.hasOwn(file.groups, id)) report(path, `unknown group "${id}" (defined: ${namesOf(file.groups)})`);
}

function namesOf(record: Record<string, unknown>): string {
  const names = Object.keys(record);
  return names.length === 0 ? "none" : names.join(", ");
}

function reportDuplicates(
  values: Array<string | undefined>,
  list: string,
  field: string,
  label: string,
  report: Report,
): void {
  const firstIndex = new Map<string, number>();
  values.forEach((value, index) => {
    if (value === undefined) return;
    const first = firstIndex.get(value);
    if (first === undefined) firstIndex.set(value, index);
    else report([list, index, field], `duplicate ${label} "${value}" (also ${list}[${first}])`);
  });
}
