import type { AccessTrigger } from "../../domain/access-trigger.js";
import { formatDuration } from "../../domain/duration.js";
import type { PolicyBook } from "../../domain/policy/policy-book.js";

/** Small formatting rules shared by every card, so Slack and Teams say things the same way. */

/** "2026-11-22 10:02 UTC": unambiguous for approvers in any time zone. */
export function formatTime(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function personName(book: PolicyBook, identityId: string): string {
  const person = book.person(identityId);
  return person?.name ? `${person.name} (${identityId})` : identityId;
}

export function peopleList(book: PolicyBook, ids: string[]): string {
  if (ids.length === 0) return "nobody";
  return ids.map((id) => personName(book, id)).join(", ");
}

export function resourceLabel(book: PolicyBook, resourceId: string): string {
  const description = book.resource(resourceId)?.description;
  return description ? `${resourceId} (${description})` : resourceId;
}

export const durationText = (seconds: number): string => formatDuration(seconds);

/** Short ids people can type back (`cancel 3f2a9c1e`); full ids work too. */
export const shortId = (id: string): string => id.slice(0, 8);

/** "INC #42: Database latency" (the title cut to 120 characters), for access an incident opened. */
export function incidentName(trigger: Extract<AccessTrigger, { kind: "pagerduty" }>): string {
  const title = trigger.title.length > 120 ? `${trigger.title.slice(0, 119)}…` : trigger.title;
  return `INC #${trigger.number ?? trigger.incidentId}${title ? `: ${title}` : ""}`;
}

/** " for INC #42: Database latency" after a card's title, or nothing when no incident opened it. */
export const forIncident = (trigger: AccessTrigger | null | undefined): string =>
  trigger?.kind === "pagerduty" ? ` for ${incidentName(trigger)}` : "";

/** The fact naming what opened the access when nobody asked: the incident and its link, or the signed event. */
export function triggerFacts(trigger: AccessTrigger | null | undefined): { label: string; value: string }[] {
  if (trigger?.kind === "pagerduty")
    return [{ label: "Incident", value: `${incidentName(trigger)}${trigger.url ? `\n${trigger.url}` : ""}` }];
  if (trigger?.kind === "event")
    return [{ label: "Opened by", value: `event ${trigger.idempotencyKey} from ${trigger.source}` }];
  return [];
}
