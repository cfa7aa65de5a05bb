import type { RequestRow } from "../../domain/access-request.js";
import { describeClass } from "../../domain/actions/action-evaluation.js";
import { describeKind } from "../../domain/actions/action-kind.js";
import type { GrantRow } from "../../domain/grant.js";
import type { PolicyBook } from "../../domain/policy/policy-book.js";
import { type Card, type CardFact, truncate } from "./card-model.js";

/** Long action texts are cut visibly on cards (chat platforms limit a field's length). */
const ACTION_TEXT_ON_CARD = 1500;

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
import { extensionChoices } from "./request-form.js";

/** The approval card: every fact an approver needs, and Approve / Deny while the request is pending. */

function approvalsFact(book: PolicyBook, request: RequestRow): CardFact {
  const steps = request.snapshot.steps;
  const lines = steps.map((step, index) => {
    const approvedBy = request.decisions
      .filter((d) => d.kind === "approve" && d.step === index)
      .map((d) => d.approverId);
    const where = steps.length > 1 ? `Step ${index + 1} of ${steps.length} "${step.name}": ` : "";
    const received = approvedBy.length > 0 ? ` (${peopleList(book, approvedBy)})` : "";
    return `${where}${approvedBy.length} of ${step.required} received${received}`;
  });
  return { label: "Approvals", value: lines.join("\n") };
}

/** Who can still act on the current step: its approvers, minus whoever already approved it and the requester (unless self-approval). */
export function pendingApprovers(request: RequestRow): string[] {
  if (request.status !== "pending") return [];
  const step = request.snapshot.steps[request.currentStep];
  if (!step) return [];
  const approved = new Set(request.decisions.filter((d) => d.step === request.currentStep).map((d) => d.approverId));
  return step.approverIds.filter(
    (id) => !approved.has(id) && (request.snapshot.selfApproval || id !== request.requesterId),
  );
}

function statusOf(book: PolicyBook, request: RequestRow): NonNullable<Card["status"]> {
  const when = request.decidedAt ? ` at ${formatTime(request.decidedAt)}` : "";
  const by = request.decidedById ? ` by ${personName(book, request.decidedById)}` : "";
  switch (request.status) {
    case "pending":
      return { tone: "warning", text: `Waiting for approval (until ${formatTime(request.pendingUntil)})` };
    case "approved":
      return request.autoApprovalReason
        ? { tone: "good", text: `Auto-approved${when}: ${request.autoApprovalReason}` }
        : { tone: "good", text: `Approved${by}${when}` };
    case "denied":
      return {
        tone: "attention",
        text: `Denied${by}${when}${request.decisionReason ? `: ${request.decisionReason}` : ""}`,
      };
    case "cancelled":
      return { tone: "neutral", text: `Cancelled by the requester${when}` };
    case "expired":
      return { tone: "neutral", text: `Expired without a decision${when}` };
  }
}

const awaitsReview = (request: RequestRow): boolean => request.breakGlass && request.reviewedAt === null;

/** Who may review a break-glass request: its approvers (admins can too, from the API or CLI), never its requester. */
export function reviewers(request: RequestRow): string[] {
  return [...new Set(request.snapshot.steps.flatMap((step) => step.approverIds))]
    .filter((id) => id !== request.requesterId)
    .sort();
}

/** "Reminded the approvers at 10:02 UTC; paged on-call dba-primary (asked bob) at 10:15 UTC". */
export function escalationStatus(request: RequestRow): string {
  const said = request.escalationLog.map((entry) => `${entry.summary} at ${formatTime(entry.at)}`);
  const text = said.join("; ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function breakGlassStatus(book: PolicyBook, request: RequestRow): NonNullable<Card["status"]> {
  if (request.reviewedAt) {
    const by = request.reviewedById ? personName(book, request.reviewedById) : "someone";
    return {
      tone: "good",
      text: `Break-glass, reviewed by ${by} at ${formatTime(request.reviewedAt)}${request.reviewNote ? `: ${request.reviewNote}` : ""}`,
    };
  }
  return {
    tone: "attention",
    text: `Break-glass: granted at once${request.decidedAt ? ` at ${formatTime(request.decidedAt)}` : ""}; waiting for review`,
  };
}

export function approvalCard(book: PolicyBook, request: RequestRow, outcome?: { status: string }): Card {
  const requester = personName(book, request.requesterId);
  const action = request.snapshot.action;
  const title = action
    ? `${requester} asks to run one action on ${request.resourceId}: ${describeClass(action.class)}`
    : request.kind === "extension"
      ? `${requester} asks to extend ${request.resourceId} by ${durationText(request.durationSeconds)}`
      : `${requester} requests ${request.resourceId} for ${durationText(request.durationSeconds)}${forIncident(request.snapshot.trigger)}`;
  const facts: CardFact[] = [
    { label: "Requester", value: requester },
    { label: "Resource", value: resourceLabel(book, request.resourceId) },
    ...(action
      ? [
          {
            label: `Action (the exact ${describeKind(action.kind)} that will run once)`,
            value: truncate(
              action.text,
              ACTION_TEXT_ON_CARD,
              `… (truncated: read it whole with GET /api/v1/requests/${request.id})`,
            ),
          },
          { label: "Class", value: `${describeClass(action.class)}: ${action.classWhy}` },
          { label: "sha256", value: action.sha256 },
        ]
      : [
          {
            label: request.kind === "extension" ? "Extra time" : "Duration",
            value: durationText(request.durationSeconds),
          },
        ]),
    { label: "Reason", value: request.reason ?? "(none given)" },
    ...(request.ticket ? [{ label: "Ticket", value: request.ticket }] : []),
    ...triggerFacts(request.snapshot.trigger),
    { label: "Policy", value: request.snapshot.matchedBecause },
    approvalsFact(book, request),
    { label: "Request", value: shortId(request.id) },
  ];
  const pending = request.status === "pending";
  const notes = [
    ...(pending ? [`Approvers now: ${peopleList(book, pendingApprovers(request))}.`] : []),
    ...(request.escalationLog.length > 0 ? [`Where it stands: ${escalationStatus(request)}.`] : []),
    ...(request.snapshot.onCallNote ? [request.snapshot.onCallNote] : []),
    ...(action && outcome
      ? [
          `Action outcome: ${outcome.status}${outcome.status === "unknown" ? " (it may or may not have run; not retried)" : ""}.`,
        ]
      : []),
  ];
  return {
    title: request.breakGlass ? `BREAK-GLASS: ${title}` : title,
    status: request.breakGlass ? breakGlassStatus(book, request) : statusOf(book, request),
    facts,
    notes,
    actions: pending
      ? [
          { kind: "approve", requestId: request.id, version: request.version },
          { kind: "deny", requestId: request.id, version: request.version },
        ]
      : awaitsReview(request)
        ? [{ kind: "review", requestId: request.id }]
        : [],
    actionableBy: awaitsReview(request) ? reviewers(request) : pendingApprovers(request),
  };
}

/** A grant as its holder sees it (App Home, `list`): with Extend and Relinquish while active. */
export function grantCard(book: PolicyBook, grant: GrantRow, maxTotalSeconds: number): Card {
  const active = grant.status === "active";
  const durations = active ? extensionChoices(grant, maxTotalSeconds) : [];
  return {
    title: `${grant.resourceId}: ${grant.status}${active ? ` until ${formatTime(grant.expiresAt)}` : ""}${forIncident(grant.trigger)}`,
    facts: [
      { label: "Resource", value: resourceLabel(book, grant.resourceId) },
      { label: "Account", value: grant.principal },
      { label: "Ends", value: formatTime(grant.expiresAt) },
      ...triggerFacts(grant.trigger),
      { label: "Grant", value: shortId(grant.id) },
    ],
    notes: [],
    actions: active
      ? [
          ...(durations.length > 0 ? [{ kind: "extend", grantId: grant.id, durations } as const] : []),
          { kind: "relinquish", grantId: grant.id } as const,
        ]
      : [],
    actionableBy: [grant.subjectId],
  };
}

/** A request as its requester sees it (App Home, `list`): with Cancel while pending. */
export function myRequestCard(book: PolicyBook, request: RequestRow): Card {
  const card = approvalCard(book, request);
  return {
    ...card,
    title: `Your request for ${request.resourceId} (${durationText(request.durationSeconds)})`,
    actions: request.status === "pending" ? [{ kind: "cancel", requestId: request.id }] : [],
    actionableBy: [request.requesterId],
  };
}
