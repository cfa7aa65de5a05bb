import type { RequestRow } from "../../domain/access-request.js";
import type { ActionResult } from "../../domain/actions/action-run.js";
import type { GrantRow } from "../../domain/grant.js";
import type { PolicyBook } from "../../domain/policy/policy-book.js";
import { type Card, truncate } from "./card-model.js";
import {
  durationText,
  forIncident,
  formatTime,
  peopleList,
  personName,
  resourceLabel,
  shortId,
  triggerFacts,
} from "./card-text.js";
import { escalationStatus, grantCard, pendingApprovers } from "./request-cards.js";

/** The direct messages a requester gets as their request and grant move along. */

export const REQUEST_NOTICES = [
  "submitted",
  "approved",
  "denied",
  "auto_approved",
  "expired",
  "escalated",
  "action_finished",
] as const;
export const GRANT_NOTICES = ["granted", "expiring", "extended", "revoked", "failed"] as const;
export type RequestNotice = (typeof REQUEST_NOTICES)[number];
export type GrantNotice = (typeof GRANT_NOTICES)[number];

const plain = (title: string, notes: string[], extra: Partial<Card> = {}): Card => ({
  title,
  facts: [],
  notes,
  actions: [],
  actionableBy: [],
  ...extra,
});

/** How an action's run ended, for its requester: the status, the row count, the first rows, the output or the error. */
export interface ActionOutcomeView {
  status: string;
  result: ActionResult | null;
}

/** Rows shown in chat at most; the whole (capped) result is in the API. */
const ROWS_IN_CHAT = 10;

function outcomeLines(outcome: ActionOutcomeView | undefined, requestId: string): string[] {
  if (!outcome) return [`Its outcome is at GET /api/v1/requests/${requestId}.`];
  const result = outcome.result;
  const lines = [`Outcome: ${outcome.status}${result?.rowCount != null ? ` (${result.rowCount} rows)` : ""}.`];
  // Sesame stopped mid-call, a COMMIT went unanswered, or a runner's answer never came or was unsigned.
  if (outcome.status === "unknown")
    lines.push("It may or may not have run, and it is not retried: check the target before asking again.");
  if (result?.error) lines.push(`Error: ${truncate(result.error, 500)}`);
  if (result?.output) {
    lines.push(truncate(result.output, 2500));
    if (result.truncated || result.output.length > 2500)
      lines.push(`More output at GET /api/v1/requests/${requestId}.`);
  }
  if (result && result.columns.length > 0) {
    const rows = result.rows.slice(0, ROWS_IN_CHAT).map((row) => row.map((v) => JSON.stringify(v)).join(" | "));
    lines.push(truncate([result.columns.join(" | "), ...rows].join("\n"), 2500));
    if (result.truncated || result.rows.length > ROWS_IN_CHAT)
      lines.push(`More rows at GET /api/v1/requests/${requestId}.`);
  }
  return lines;
}

export function requestNotice(
  book: PolicyBook,
  kind: RequestNotice,
  request: RequestRow,
  outcome?: ActionOutcomeView,
): Card {
  const what = request.snapshot.action
    ? `one action on ${request.resourceId}`
    : `${request.resourceId} (${durationText(request.durationSeconds)})${forIncident(request.snapshot.trigger)}`;
  const next = request.snapshot.action
    ? `Sesame runs it once now; its result is at GET /api/v1/requests/${request.id}.`
    : undefined;
  const id = `Request ${shortId(request.id)}.`;
  switch (kind) {
    case "submitted":
      return plain(
        `Your request for ${what} is waiting for approval`,
        [
          `Asked: ${peopleList(book, pendingApprovers(request))}.`,
          `${id} You will hear here when it is decided; until ${formatTime(request.pendingUntil)} at the latest.`,
        ],
        {
          actions: [{ kind: "cancel", requestId: request.id }],
          actionableBy: [request.requesterId],
        },
      );
    case "approved":
      return plain(`Your request for ${what} was approved`, [
        `Approved by ${request.decidedById ? personName(book, request.decidedById) : "the approvers"}. ${next ?? "Sesame is granting the access now; you will get a message when it is ready."}`,
        id,
      ]);
    case "auto_approved":
      return plain(`Your request for ${what} was auto-approved`, [
        `Rule: ${request.autoApprovalReason ?? "auto-approval"}. ${next ?? "Sesame is granting the access now."}`,
        id,
      ]);
    case "denied":
      return plain(`Your request for ${what} was denied`, [
        `Denied by ${request.decidedById ? personName(book, request.decidedById) : "an approver"}${request.decisionReason ? `: ${request.decisionReason}` : " (no reason given)"}.`,
        id,
      ]);
    case "escalated":
      return plain(
        `Your request for ${what} is still waiting`,
        [`${escalationStatus(request)}.`, `Approvers now: ${peopleList(book, pendingApprovers(request))}. ${id}`],
        {
          actions: [{ kind: "cancel", requestId: request.id }],
          actionableBy: [request.requesterId],
        },
      );
    case "action_finished":
      return plain(
        `Your action on ${request.resourceId} ${outcome?.status === "succeeded" ? "ran" : "ended"}: ${outcome?.status ?? "finished"}`,
        [...outcomeLines(outcome, request.id), id],
      );
    case "expired":
      return plain(`Your request for ${what} expired without a decision`, [
        `Nobody decided before ${formatTime(request.pendingUntil)}. Contact ${peopleList(book, request.snapshot.steps[request.currentStep]?.approverIds ?? [])} or request again.`,
        id,
      ]);
  }
}

export function grantNotice(book: PolicyBook, kind: GrantNotice, grant: GrantRow, maxTotalSeconds: number): Card {
  const resource = resourceLabel(book, grant.resourceId);
  const id = `Grant ${shortId(grant.id)}.`;
  // Access an incident opened says so in every message about it, with the incident's link.
  const withButtons = (card: Card): Card => {
    const full = grantCard(book, grant, maxTotalSeconds);
    return { ...card, facts: triggerFacts(grant.trigger), actions: full.actions, actionableBy: full.actionableBy };
  };
  const incident = forIncident(grant.trigger);
  switch (kind) {
    case "granted":
      return withButtons(
        plain(`Your access to ${grant.resourceId}${incident} is active until ${formatTime(grant.expiresAt)}`, [
          `What to do now: use ${resource} as ${grant.principal}.`,
          ...(grant.hasSecret
            ? [
                "Temporary credentials were issued: fetch them with `GET /api/v1/grants/<id>/credentials` (they are never sent in chat).",
              ]
            : []),
          `It is removed automatically at ${formatTime(grant.expiresAt)}; relinquish it as soon as you are done. ${id}`,
        ]),
      );
    case "expiring":
      return withButtons(
        plain(`Your access to ${grant.resourceId}${incident} ends at ${formatTime(grant.expiresAt)}`, [
          `Extend it if you still need it (the policy decides whether that needs approval). ${id}`,
        ]),
      );
    case "extended":
      return withButtons(
        plain(`Your access to ${grant.resourceId} now lasts until ${formatTime(grant.expiresAt)}`, [id]),
      );
    case "revoked":
      return plain(
        `Your access to ${grant.resourceId}${incident} has ended`,
        [`${grant.revokeReason ? `Reason: ${grant.revokeReason}. ` : ""}${id}`],
        { facts: triggerFacts(grant.trigger) },
      );
    case "failed":
      return plain(
        grant.status === "grant_failed"
          ? `Sesame could not grant ${grant.resourceId}`
          : `Sesame could not yet remove your access to ${grant.resourceId}`,
        [
          grant.status === "grant_failed"
            ? `The connector failed; the admins were alerted. ${id}`
            : `It keeps retrying and the admins were alerted. ${id}`,
        ],
      );
  }
}
