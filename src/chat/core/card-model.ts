/**
 * The channel-neutral card: what Sesame wants to say, never how. Slack renders it as Block Kit,
 * Teams as an Adaptive Card. All text is plain (adapters escape it for their markup), so a reason
 * typed by a requester can never inject mentions or links.
 */

export type CardTone = "neutral" | "good" | "warning" | "attention";

export interface CardFact {
  label: string;
  value: string;
}

/** What a button does. Carries ids and the request version only; the clicker comes from the platform. */
export type CardAction =
  | { kind: "approve"; requestId: string; version: number }
  | { kind: "deny"; requestId: string; version: number }
  | { kind: "cancel"; requestId: string }
  /** `durations`: the additional times the policy still allows, shortest first. */
  | { kind: "extend"; grantId: string; durations: string[] }
  | { kind: "relinquish"; grantId: string }
  /** Break-glass: record the after-the-fact review. */
  | { kind: "review"; requestId: string }
  /** Incident access offered to an assignee: one click requests it, approved by the incidentAccess rule. */
  | { kind: "activate"; offerId: string };

export interface Card {
  /** One line; also the notification text and the fallback for clients that show no card. */
  title: string;
  status?: { tone: CardTone; text: string };
  facts: CardFact[];
  /** Short paragraphs shown under the facts (what happens next, where things stand). */
  notes: string[];
  actions: CardAction[];
  /** Identities who may use the actions (Teams shows the buttons to them only). Empty: whoever received it. */
  actionableBy: string[];
}

/** Cuts text to `max` characters with a visible marker, so a long reason is shortened, never rejected. */
export function truncate(text: string, max: number, marker = "… (truncated)"): string {
  if (text.length <= max) return text;
  return text.slice(0, Math.max(0, max - marker.length)) + marker;
}
