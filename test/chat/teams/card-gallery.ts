import type { Card } from "../../../src/chat/core/card-model.js";
import { type GrantNotice, grantNotice, type RequestNotice, requestNotice } from "../../../src/chat/core/notices.js";
import { approvalCard, grantCard, myRequestCard } from "../../../src/chat/core/request-cards.js";
import { requestFormModel } from "../../../src/chat/core/request-form.js";
import { type AdaptiveCardJson, type CardView, renderAdaptiveCard } from "../../../src/chat/teams/adaptive-card.js";
import { requestFormCard } from "../../../src/chat/teams/request-form-card.js";
import { parsePolicyText } from "../../../src/config/policy-loader.js";
import type { RequestRow } from "../../../src/domain/access-request.js";
import type { GrantRow } from "../../../src/domain/grant.js";
import { PolicyBook } from "../../../src/domain/policy/policy-book.js";

/**
 * Every kind of card Sesame sends in Teams, built from sample rows: used by the schema test and
 * by scripts/render-cards.ts (the README's pictures).
 */

export const GALLERY_POLICY = `
version: 1
people:
  - { id: alice, email: alice@example.com, name: Alice Martin }
  - { id: bob, email: bob@example.com, name: Bob Chen }
  - { id: carol, email: carol@example.com, name: Carol Diaz }
connectors:
  demo: { type: noop }
resources:
  prod-db-readonly: { connector: demo, description: Read-only access to the production database }
  staging-db: { connector: demo, description: Read-write access to staging }
policies:
  - id: prod-db-read
    resources: [prod-db-readonly, staging-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 4h }
    reason: { required: true }
    ticket: { required: false, hint: "Use the incident ticket, e.g. OPS-1234." }
    approvers: { users: [bob, carol] }
`;

export const galleryBook = (): PolicyBook => new PolicyBook(parsePolicyText(GALLERY_POLICY, "gallery.yaml"));

const at = (iso: string) => new Date(iso);
const REQUEST_ID = "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c";
const GRANT_ID = "9c8b7a6f-5e4d-4c3b-8a2f-1e0d9c8b7a6f";

/** A request row as the store returns it; only the fields the card builders read matter. */
export function sampleRequest(overrides: Partial<RequestRow> = {}): RequestRow {
  const base = {
    id: REQUEST_ID,
    kind: "access",
    requesterId: "alice",
    resourceId: "prod-db-readonly",
    policyId: "prod-db-read",
    durationSeconds: 7200,
    reason: "Slow queries on the orders table since the 10:00 deploy (INC-42)",
    ticket: "OPS-1234",
    status: "pending",
    version: 1,
    snapshot: {
      policyId: "prod-db-read",
      steps: [{ name: "approval", approverIds: ["bob", "carol"], required: 1 }],
      selfApproval: false,
      matchedBecause: 'policy "prod-db-read": alice is a listed requester',
      maxDurationSeconds: 14400,
      extension: { requiresApproval: false, maxTotalSeconds: 14400 },
      connectorName: "demo",
      target: {},
      principal: "alice",
      entitlementKey: "demo:alice",
    },
    currentStep: 0,
    autoApprovalReason: null,
    decisionReason: null,
    decidedById: null,
    extendsGrantId: null,
    grantId: null,
    pendingUntil: at("2026-11-22T14:00:00Z"),
    decidedAt: null,
    createdAt: at("2026-11-22T10:00:00Z"),
    decisions: [],
    escalationLog: [],
    breakGlass: false,
    reviewedAt: null,
    reviewedById: null,
    reviewNote: null,
  };
  return { ...base, ...overrides } as RequestRow;
}

export function sampleGrant(overrides: Partial<GrantRow> = {}): GrantRow {
  const base = {
    id: GRANT_ID,
    requestId: REQUEST_ID,
    subjectId: "alice",
    resourceId: "prod-db-readonly",
    connectorName: "demo",
    principal: "alice",
    target: {},
    entitlementKey: "demo:alice",
    status: "active",
    version: 2,
    durationSeconds: 7200,
    startsAt: at("2026-11-22T10:05:00Z"),
    expiresAt: at("2026-11-22T12:05:00Z"),
    activatedAt: at("2026-11-22T10:05:01Z"),
    revokedAt: null,
    revokeReason: null,
    revokedById: null,
    receipt: null,
    hasSecret: false,
    attempts: 1,
    lastError: null,
    createdAt: at("2026-11-22T10:05:00Z"),
    updatedAt: at("2026-11-22T10:05:01Z"),
  };
  return { ...base, ...overrides } as GrantRow;
}

export interface GalleryCard {
  name: string;
  description: string;
  json: AdaptiveCardJson;
}

const TEAMS_IDS = ["29:bob", "29:carol"];

export function cardGallery(): GalleryCard[] {
  const book = galleryBook();
  const view = (actionable: boolean, notice?: CardView["notice"]): CardView => ({
    actionable,
    refreshFor: TEAMS_IDS,
    ...(notice ? { notice } : {}),
  });
  const render = (name: string, description: string, card: Card, v: CardView = view(true)) => ({
    name,
    description,
    json: renderAdaptiveCard(card, v),
  });
  const decided = { decidedAt: at("2026-11-22T10:04:00Z"), decidedById: "bob", version: 2 };
  const approved = sampleRequest({
    ...decided,
    status: "approved",
    decisions: [{ approverId: "bob", kind: "approve", step: 0, comment: null, createdAt: at("2026-11-22T10:04:00Z") }],
  });
  const denied = sampleRequest({ ...decided, status: "denied", decisionReason: "Use the read replica instead" });
  const form = requestFormModel(book, "alice");
  const requestNotices: RequestNotice[] = ["submitted", "approved", "auto_approved", "denied", "expired", "escalated"];
  const escalated = sampleRequest({
    version: 3,
    escalationLog: [
      { step: 0, action: "remind", at: at("2026-11-22T10:10:00Z"), summary: "reminded the approvers" },
      {
        step: 2,
        action: "page",
        at: at("2026-11-22T10:30:00Z"),
        summary: "paged on-call dba-primary (asked carol)",
        paged: "dba-primary",
      },
    ],
  });
  const breakGlass = sampleRequest({
    ...decided,
    status: "approved",
    decidedById: null,
    breakGlass: true,
    autoApprovalReason: "break-glass: production is down, INC-77",
  });
  const grantNotices: GrantNotice[] = ["granted", "expiring", "extended", "revoked", "failed"];
  const noticeRow = (kind: RequestNotice) =>
    kind === "escalated"
      ? escalated
      : kind === "approved"
        ? approved
        : kind === "denied"
          ? denied
          : kind === "auto_approved"
            ? sampleRequest({
                ...decided,
                status: "approved",
                decidedById: null,
                autoApprovalReason: "SRE during office hours, up to 1h",
              })
            : kind === "expired"
              ? sampleRequest({ status: "expired", decidedAt: at("2026-11-22T14:00:00Z") })
              : sampleRequest();
  const grantRow = (kind: GrantNotice) =>
    kind === "revoked"
      ? sampleGrant({ status: "revoked", revokeReason: "expired" })
      : kind === "failed"
        ? sampleGrant({ status: "grant_failed" })
        : sampleGrant();
  return [
    render("approval-pending", "Approval card as an approver sees it", approvalCard(book, sampleRequest())),
    render(
      "approval-pending-read-only",
      "The same card for everyone else (channel copy)",
      approvalCard(book, sampleRequest()),
      view(false),
    ),
    render(
      "approval-stale",
      "A click on an out-of-date card: nothing recorded, the current card shown",
      approvalCard(book, sampleRequest({ version: 2 })),
      view(true, {
        tone: "attention",
        text: "This request changed since your card was sent (another approval arrived). Nothing was recorded; look at the current request and decide again.",
      }),
    ),
    render(
      "approval-approved",
      "After Approve",
      approvalCard(book, approved),
      view(false, { tone: "good", text: "Approved. Sesame is granting the access now." }),
    ),
    render("approval-denied", "After Deny", approvalCard(book, denied), view(false)),
    render(
      "approval-escalated",
      "A pending request after the ladder reminded and paged on-call",
      approvalCard(book, escalated),
    ),
    render("break-glass-review", "Break-glass access waiting for its review", approvalCard(book, breakGlass)),
    render(
      "break-glass-reviewed",
      "After the review",
      approvalCard(book, {
        ...breakGlass,
        reviewedAt: at("2026-11-22T11:00:00Z"),
        reviewedById: "carol",
        reviewNote: "Checked the session log",
      }),
      view(false),
    ),
    { name: "request-form", description: "The request form (request-access)", json: requestFormCard(form) },
    {
      name: "request-form-errors",
      description: "The form sent back with a problem named",
      json: requestFormCard(
        form,
        { resource: "prod-db-readonly", duration: "1h" },
        { reason: "A reason is required for prod-db-readonly." },
      ),
    },
    render("my-request", "A requester's pending request (list)", myRequestCard(book, sampleRequest())),
    render("grant-active", "An active grant with Extend and Relinquish", grantCard(book, sampleGrant(), 14400)),
    ...requestNotices.map((kind) =>
      render(
        `notice-${kind.replace("_", "-")}`,
        `Requester notice: ${kind}`,
        requestNotice(book, kind, noticeRow(kind)),
      ),
    ),
    ...grantNotices.map((kind) =>
      render(`notice-${kind}`, `Grant notice: ${kind}`, grantNotice(book, kind, grantRow(kind), 14400)),
    ),
  ];
}
