import { AppError } from "../errors.js";
import { expandSubjects, type OnCallRoster, stepRulesOf } from "./approval-steps.js";
import { checkPolicyConsistency } from "./policy-consistency.js";
import { explainRequest, type PolicyExplanation } from "./policy-explain.js";
import type { Person, Policy, PolicyFile, Resource } from "./policy-schema.js";
import { renderPrincipalTemplate } from "./principal-template.js";
import { evaluateRequest, type RequestEvaluation, type RequestInput } from "./request-evaluation.js";
import { resourceRefusal, serviceResourceRefusal, unknownRequesterError } from "./request-rules.js";

export type { ResolvedStep } from "./approval-steps.js";
export type { PolicyExplanation } from "./policy-explain.js";
export type { RequestEvaluation, RequestInput } from "./request-evaluation.js";

export interface RequestableResource {
  resourceId: string;
  resource: Resource;
  policy: Policy;
}

/** Who may request what and who approves it, read from a parsed policy file. Pure: no I/O, no clock. */
export class PolicyBook {
  private readonly byId = new Map<string, Person>();
  private readonly byEmail = new Map<string, Person>();
  private readonly groups = new Map<string, string[]>();
  private readonly resources = new Map<string, Resource>();

  constructor(private readonly file: PolicyFile) {
    // The loader reports these with line numbers; refusing here too means no caller can evaluate
    // requests against a file with dangling names, whatever path it took to get here.
    const problems = checkPolicyConsistency(file);
    if (problems.length > 0) {
      const lines = problems.map((problem) => `${problem.path.join(".")}: ${problem.message}`);
      throw new AppError("config_invalid", `The policy file is inconsistent:\n${lines.join("\n")}`);
    }
    for (const person of file.people) {
      this.byId.set(person.id, person);
      this.byEmail.set(person.email.toLowerCase(), person);
    }
    for (const [group, members] of Object.entries(file.groups)) this.groups.set(group, [...new Set(members)].sort());
    for (const [id, resource] of Object.entries(file.resources)) this.resources.set(id, resource);
  }

  person(id: string): Person | undefined {
    return this.byId.get(id);
  }

  personByEmail(email: string): Person | undefined {
    return this.byEmail.get(email.trim().toLowerCase());
  }

  people(): Person[] {
    return [...this.file.people];
  }

  membersOf(groupId: string): string[] {
    return [...(this.groups.get(groupId) ?? [])];
  }

  /** Every group with its members, as the policy file lists them. */
  groupTable(): PolicyFile["groups"] {
    return this.file.groups;
  }

  groupsOf(personId: string): string[] {
    return [...this.groups].filter(([, members]) => members.includes(personId)).map(([group]) => group);
  }

  isAdmin(personId: string): boolean {
    return this.byId.get(personId)?.admin === true;
  }

  resource(id: string): Resource | undefined {
    return this.resources.get(id);
  }

  policy(id: string): Policy | undefined {
    return this.file.policies.find((policy) => policy.id === id);
  }

  policiesListing(resourceId: string): Policy[] {
    return this.file.policies.filter((policy) => policy.resources.includes(resourceId));
  }

  /** The first policy, in file order, that lists the resource and lets the person request it. */
  matchPolicy(requesterId: string, resourceId: string): Policy | undefined {
    const person = this.byId.get(requesterId);
    if (!person) return undefined;
    // A service identity may only ask for the resources its `service.resources` names.
    if (person.service && !person.service.resources.includes(resourceId)) return undefined;
    return this.file.policies.find(
      (policy) => policy.resources.includes(resourceId) && this.requesterReason(policy, requesterId) !== undefined,
    );
  }

  requestableResources(requesterId: string): RequestableResource[] {
    return [...this.resources].flatMap(([resourceId, resource]) => {
      const policy = this.matchPolicy(requesterId, resourceId);
      return policy ? [{ resourceId, resource, policy }] : [];
    });
  }

  /** Why the person may request under this policy, or undefined when they may not. */
  requesterReason(policy: Policy, requesterId: string): string | undefined {
    if (policy.requesters.users.includes(requesterId)) return "you are listed as a requester";
    const group = policy.requesters.groups.find((id) => this.groups.get(id)?.includes(requesterId));
    if (group !== undefined) return `you are in group ${group}`;
    return policy.requesters.everyone ? "everyone may request it" : undefined;
  }

  /** The person, resource and policy of a request; throws the refusal when there is none. */
  authorize(requesterId: string, resourceId: string): { person: Person; resource: Resource; policy: Policy } {
    const person = this.byId.get(requesterId);
    if (!person) throw unknownRequesterError(requesterId);
    const resource = this.resources.get(resourceId);
    if (resource && person.service && !person.service.resources.includes(resourceId))
      throw serviceResourceRefusal(requesterId, resourceId, person.service.resources);
    const policy = this.matchPolicy(requesterId, resourceId);
    if (!resource || !policy) {
      const allowed = this.requestableResources(requesterId).map((entry) => entry.resourceId);
      throw resourceRefusal(resourceId, resource !== undefined, allowed);
    }
    return { person, resource, policy };
  }

  /** Checks a request against its policy; throws the refusal a person should see, else says what happens next. */
  evaluateRequest(input: RequestInput, now: Date): RequestEvaluation {
    return evaluateRequest(this, this.file.groups, input, now);
  }

  /** The account the resource's connector grants to: the person's explicit principal, else the template. */
  principalFor(personId: string, resourceId: string): string {
    const person = this.byId.get(personId);
    const resource = this.resources.get(resourceId);
    if (!person || !resource) {
      throw new AppError("not_found", `Unknown ${person ? `resource "${resourceId}"` : `person "${personId}"`}.`);
    }
    const explicit = person.principals ?? {};
    const override = Object.hasOwn(explicit, resource.connector) ? explicit[resource.connector] : undefined;
    return override ?? renderPrincipalTemplate(resource.principal, person);
  }

  /** The `incidentAccess` rules: which PagerDuty services' incidents open what for their assignees. */
  incidentAccessRules(): PolicyFile["incidentAccess"] {
    return this.file.incidentAccess;
  }

  /** The `eventAccess` rules: which signed event sources may open what for whom. */
  eventAccessRules(): PolicyFile["eventAccess"] {
    return this.file.eventAccess;
  }

  /** On-call sources the policy uses: approvers, auto-approval rules, escalation pages and break-glass. */
  onCallSourcesOf(policy: Policy): { approvers: string[]; autoApproval: string[]; pages: string[] } {
    const approvers = stepRulesOf(policy).flatMap((rule) => rule.approvers.oncall);
    const autoApproval = policy.autoApprove.flatMap((rule) => (rule.requesterOnCall ? [rule.requesterOnCall] : []));
    const pages = [
      ...policy.escalation.flatMap((step) => (step.oncall ? [step.oncall] : [])),
      ...(policy.breakGlass?.page ? [policy.breakGlass.page] : []),
    ];
    return { approvers: [...new Set(approvers)], autoApproval: [...new Set(autoApproval)], pages: [...new Set(pages)] };
  }

  /** Everyone who could approve some step of the policy now (named people and groups, reroutes included), ignoring self-approval. */
  approversFor(policyId: string): string[] {
    const policy = this.policy(policyId);
    if (!policy) return [];
    const ids = stepRulesOf(policy).flatMap((rule) => expandSubjects(rule.approvers, this.file.groups));
    // People a reroute step adds are approvers the policy names, too.
    const rerouted = policy.escalation.flatMap((step) => (step.to ? expandSubjects(step.to, this.file.groups) : []));
    return [...new Set([...ids, ...rerouted])].sort();
  }

  /** Who would approve, whether it would auto-approve, and why. Never throws for a refused request. */
  explain(
    requesterId: string,
    resourceId: string,
    now: Date,
    durationSeconds?: number,
    onCall?: OnCallRoster,
  ): PolicyExplanation {
    const connectorName = Object.hasOwn(this.file.resources, resourceId)
      ? this.file.resources[resourceId]?.connector
      : undefined;
    const connectorType =
      connectorName && Object.hasOwn(this.file.connectors, connectorName)
        ? this.file.connectors[connectorName]?.type
        : undefined;
    return explainRequest(this, this.file.groups, {
      requesterId,
      resourceId,
      now,
      durationSeconds,
      ...(connectorType ? { connectorType } : {}),
      ...(onCall ? { onCall } : {}),
    });
  }
}
