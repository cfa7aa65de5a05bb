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
