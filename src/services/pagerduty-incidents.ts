import type { AccessTrigger } from "../domain/access-trigger.js";
import { parseDuration } from "../domain/duration.js";
import { isAppError } from "../domain/errors.js";
import type { GrantRow } from "../domain/grant.js";
import {
  type PagerDutyIncident,
  PagerDutyIncidentSchema,
  PagerDutyWebhookSchema,
  ResponderAddedSchema,
  startsAccess,
} from "../domain/pagerduty-webhook.js";
import type { IncidentAccessRule } from "../domain/policy/policy-schema.js";
import type { ServiceDeps } from "./deps.js";
import type { StoredInboundEvent } from "./inbound-events.js";
import { offerIncidentAccess } from "./incident-offers.js";
import { requestRevoke } from "./request-revoke.js";
import { submitRequest } from "./submit-request.js";

/** What incident access asks PagerDuty (REST API): a user's email, an incident's current status. */
export interface PagerDutyDirectory {
  emailOf(userId: string): Promise<string | null>;
  /** `GET /incidents/{id}`: the incident as it is now (status, service, assignees…). */
  incident(incidentId: string): Promise<PagerDutyIncident | null>;
}

export interface PagerDutyPorts {
  directory: PagerDutyDirectory;
  /** Whether a resolve of this incident was already received (events may arrive out of order). */
  resolveReceived(incidentId: string): Promise<boolean>;
}

const triggerOf = (incident: PagerDutyIncident): Extract<AccessTrigger, { kind: "pagerduty" }> => ({
  kind: "pagerduty",
  incidentId: incident.id,
  number: incident.number ?? null,
  title: incident.title ?? "",
  url: incident.html_url ?? null,
});

const nameOf = (incident: PagerDutyIncident) => `PagerDuty incident #${incident.number ?? incident.id}`;

/**
 * One PagerDuty webhook event, already stored once by its id: acknowledged (or triggered, per
 * rule) grants the assignees the rule's resources; reassigned moves the access to the new
 * assignees; resolved revokes everything the incident opened. Returns what happened, for the log.
 */
export async function processPagerDutyEvent(
  deps: ServiceDeps,
  ports: PagerDutyPorts,
  stored: StoredInboundEvent,
): Promise<string> {
  const webhook = PagerDutyWebhookSchema.parse(stored.payload);
  const { event_type: type, resource_type: resourceType } = webhook.event;
  if (resourceType !== "incident" || !HANDLED.has(type)) return `ignored: ${type} opens or closes no access`;
  const subject = await subjectOf(ports, type, webhook.event.data);
  if (!subject) return `ignored: ${type} without the incident fields it needs`;
  const { incident, assigneeIds } = subject;
  const serviceId = incident.service?.id;
  const ofService = deps
    .policy()
    .incidentAccessRules()
    .filter((rule) => serviceId !== undefined && rule.services.includes(serviceId));
  if (ofService.length === 0) {
    const why = `service ${serviceId ?? "(none)"} has no incidentAccess rule`;
    await noteIgnored(deps, incident, type, why);
    return `ignored: ${why}`;
  }
  // What the incident holds is found by service, not by urgency or priority: those may change while it is open.
  const held = await grantsOfIncident(deps, incident.id, ofService);
  if (type === "incident.resolved") {
    for (const grant of held) await revoke(deps, grant, `${nameOf(incident)} was resolved`);
    const withdrawn = (await deps.offers?.withdraw(incident.id, `${nameOf(incident)} was resolved`)) ?? [];
    const said = [
      ...(held.length > 0 ? [`revoked ${held.map((g) => g.id).join(", ")}`] : []),
      ...(withdrawn.length > 0 ? [`withdrew offers ${withdrawn.join(", ")}`] : []),
    ];
    return said.join("; ") || "resolved: nothing to revoke";
  }
  const rules = ofService.filter((rule) => matchesIncident(rule, incident));
  if (rules.length === 0) {
    const why = `no incidentAccess rule of service ${serviceId} covers urgency ${incident.urgency ?? "(none)"}, priority ${incident.priority?.summary ?? "(none)"}`;
    await noteIgnored(deps, incident, type, why);
    return `ignored: ${why}`;
  }
  const starting = rules.filter((rule) =>
    type === "incident.responder.added"
      ? rule.on === "triggered" || incident.status === "acknowledged"
      : startsAccess(type, rule.on),
  );
  if (starting.length === 0) return `ignored: ${type} starts no access`;
  if (await alreadyResolved(deps, ports, incident)) return "nothing granted: the incident is already resolved";
  const people = await assigneesAsPeople(deps, ports, incident, assigneeIds, type);
  const outcome: string[] = [];
  if (type === "incident.reassigned") {
    for (const grant of held.filter((g) => !people.includes(g.subjectId))) {
      await revoke(deps, grant, `${nameOf(incident)} was reassigned`);
      outcome.push(`revoked ${grant.id}`);
    }
    for (const id of (await deps.offers?.withdraw(incident.id, `${nameOf(incident)} was reassigned`, people)) ?? [])
      outcome.push(`withdrew offer ${id}`);
  }
  for (const rule of starting) {
    for (const resourceId of rule.resources) {
      for (const personId of people) {
        if (held.some((g) => g.subjectId === personId && g.resourceId === resourceId)) continue;
        outcome.push(
          rule.grant === "offer"
            ? await offerFor(deps, incident, personId, resourceId, rule)
            : await grantFor(deps, incident, rule, personId, resourceId),
        );
      }
    }
  }
  return outcome.join("; ") || "nothing to change";
}

/** `grant: offer`: the assignee gets a one-click card; nothing is granted until they click. */
function offerFor(
  deps: ServiceDeps,
  incident: PagerDutyIncident,
  personId: string,
  resourceId: string,
  rule: IncidentAccessRule,
): Promise<string> {
  return offerIncidentAccess(deps, {
    incidentId: incident.id,
    personId,
    resourceId,
    trigger: triggerOf(incident),
    maxSeconds: cappedDuration(deps, personId, resourceId, parseDuration(rule.maxDuration)),
    approval: `assignee of ${nameOf(incident)} (incidentAccess, service ${incident.service?.id})`,
  });
}

/** A rule's urgency and priority filters (absent: any). */
function matchesIncident(rule: IncidentAccessRule, incident: PagerDutyIncident): boolean {
  if (rule.urgency !== undefined && rule.urgency !== incident.urgency) return false;
  if (rule.priorities === undefined) return true;
  const priority = incident.priority?.summary;
  return priority !== undefined && rule.priorities.includes(priority);
}

async function grantFor(
  deps: ServiceDeps,
  incident: PagerDutyIncident,
  rule: IncidentAccessRule,
  personId: string,
  resourceId: string,
): Promise<string> {
  try {
    const request = await submitRequest(deps, {
      requesterId: personId,
      resourceId,
      duration: cappedDuration(deps, personId, resourceId, parseDuration(rule.maxDuration)),
      reason: `${nameOf(incident)}: ${incident.title ?? ""}`.trim(),
      trigger: {
        detail: triggerOf(incident),
        approval: `assignee of ${nameOf(incident)} (incidentAccess, service ${incident.service?.id})`,
      },
    });
    return `granted ${resourceId} to ${personId} (request ${request.id})`;
  } catch (error) {
    if (!isAppError(error)) throw error;
    deps.logger.warn(
      { incidentId: incident.id, personId, resourceId, refusal: error.message },
      "incident access refused",
    );
    return `refused ${resourceId} for ${personId}: ${error.message}`;
  }
}

const HANDLED = new Set([
  "incident.triggered",
  "incident.acknowledged",
  "incident.reassigned",
  "incident.resolved",
  "incident.responder.added",
]);

/**
 * The incident and the people an event is about: for incident.* events the incident is the data
 * and its assignees; a responder added later (`incident.responder.added`, whose data is the
 * responder request) names the incident by reference, so it is read from PagerDuty.
 */
async function subjectOf(
  ports: PagerDutyPorts,
  type: string,
  data: unknown,
): Promise<{ incident: PagerDutyIncident; assigneeIds: string[] } | null> {
  if (type !== "incident.responder.added") {
    const incident = PagerDutyIncidentSchema.safeParse(data);
    if (!incident.success) return null;
    return { incident: incident.data, assigneeIds: (incident.data.assignees ?? []).map((a) => a.id) };
  }
  const responder = ResponderAddedSchema.safeParse(data);
  if (!responder.success) return null;
  const incident = await ports.directory.incident(responder.data.incident.id);
  return incident ? { incident, assigneeIds: [responder.data.user.id] } : null;
}

async function alreadyResolved(
  deps: ServiceDeps,
  ports: PagerDutyPorts,
  incident: PagerDutyIncident,
): Promise<boolean> {
  if (incident.status === "resolved" || (await ports.resolveReceived(incident.id))) return true;
  try {
    return (await ports.directory.incident(incident.id))?.status === "resolved";
  } catch (error) {
    // PagerDuty unreachable: what we received says it is open; a later resolve still revokes.
    deps.logger.warn(
      { incidentId: incident.id, err: error instanceof Error ? error.message : String(error) },
      "could not ask PagerDuty for the incident's status; going by the events received",
    );
    return false;
  }
}

async function assigneesAsPeople(
  deps: ServiceDeps,
  ports: PagerDutyPorts,
  incident: PagerDutyIncident,
  assigneeIds: string[],
  type: string,
): Promise<string[]> {
  const people: string[] = [];
  for (const id of assigneeIds) {
    const assignee = { id };
    const email = await ports.directory.emailOf(assignee.id);
    const person = email ? deps.policy().personByEmail(email) : undefined;
    if (person) people.push(person.id);
    else await noteIgnored(deps, incident, type, `PagerDuty user ${assignee.id} maps to no Sesame person by email`);
  }
  return [...new Set(people)];
}

async function grantsOfIncident(
  deps: ServiceDeps,
  incidentId: string,
  rules: IncidentAccessRule[],
): Promise<GrantRow[]> {
  const resources = [...new Set(rules.flatMap((rule) => rule.resources))];
  const grants: GrantRow[] = [];
  for (const resourceId of resources) {
    // Filtered by the trigger in SQL: the newest 100 grants of a busy resource may not hold the incident's.
    grants.push(
      ...(await deps.store.listGrants({ resourceId, status: ["scheduled", "active"], incidentId, limit: 1000 })),
    );
  }
  return grants;
}

function revoke(deps: ServiceDeps, grant: GrantRow, reason: string): Promise<GrantRow> {
  return requestRevoke(deps, { grantId: grant.id, actorId: grant.subjectId, cause: "relinquished", reason });
}

async function noteIgnored(deps: ServiceDeps, incident: PagerDutyIncident, type: string, why: string): Promise<void> {
  deps.logger.warn({ incidentId: incident.id, eventType: type, why }, "PagerDuty event grants nothing");
  await deps.store.transaction((uow) =>
    uow.appendAudit({
      type: "incident.access_skipped",
      data: { trigger: triggerOf(incident), eventType: type, why },
    }),
  );
}

/** The rule's maximum, within the policy's own `duration.max` (which would refuse anything longer). */
export function cappedDuration(deps: ServiceDeps, personId: string, resourceId: string, seconds: number): number {
  const max = deps.policy().matchPolicy(personId, resourceId)?.duration.max;
  return max === undefined ? seconds : Math.min(seconds, parseDuration(max));
}
