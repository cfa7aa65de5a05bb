import { describe, expect, it } from "vitest";
import { grantNotice } from "../../../src/chat/core/notices.js";
import { approvalCard, grantCard } from "../../../src/chat/core/request-cards.js";
import type { RequestRow } from "../../../src/domain/access-request.js";
import type { AccessTrigger } from "../../../src/domain/access-trigger.js";
import type { GrantRow } from "../../../src/domain/grant.js";
import { PolicyBook } from "../../../src/domain/policy/policy-book.js";
import { PolicyFileSchema } from "../../../src/domain/policy/policy-schema.js";

/** Access an incident opened names the incident (number, title, link) on the cards people see. */

const book = new PolicyBook(
  PolicyFileSchema.parse({
    version: 1,
    people: [{ id: "carol", email: "carol@example.com", name: "Carol" }],
    connectors: { demo: { type: "noop" } },
    resources: { "incident-db": { connector: "demo", target: { role: "incident" } } },
    policies: [
      {
        id: "p",
        resources: ["incident-db"],
        requesters: { users: ["carol"] },
        duration: { default: "1h", max: "4h" },
        approvers: { users: ["carol"] },
      },
    ],
  }),
);

const now = new Date("2026-12-07T10:00:00Z");
const incident: AccessTrigger = {
  kind: "pagerduty",
  incidentId: "PINC1",
  number: 42,
  title: "Database latency",
  url: "https://acme.pagerduty.com/incidents/PINC1",
};

function request(trigger?: AccessTrigger): RequestRow {
  return {
    id: "11111111-2222-3333-4444-555555555555",
    kind: "access",
    requesterId: "carol",
    resourceId: "incident-db",
    policyId: "p",
    durationSeconds: 14_400,
    reason: "PagerDuty incident #42: Database latency",
    ticket: null,
    status: "approved",
    version: 2,
    snapshot: {
      policyId: "p",
      steps: [{ name: "approval", approverIds: ["carol"], required: 1 }],
      selfApproval: false,
      matchedBecause: "policy p",
      maxDurationSeconds: 14_400,
      extension: { requiresApproval: true, maxTotalSeconds: 14_400 },
      connectorName: "demo",
      target: { role: "incident" },
      principal: "carol",
      entitlementKey: "k",
      ...(trigger ? { trigger } : {}),
    },
    currentStep: 0,
    autoApprovalReason: "assignee of PagerDuty incident #42",
    decisionReason: null,
    decidedById: null,
    extendsGrantId: null,
    grantId: "99999999-2222-3333-4444-555555555555",
    pendingUntil: new Date(now.getTime() + 3_600_000),
    decidedAt: now,
    createdAt: now,
    decisions: [],
    escalationLog: [],
    breakGlass: false,
    reviewedAt: null,
    reviewedById: null,
    reviewNote: null,
  };
}

function grant(trigger: AccessTrigger | null): GrantRow {
  return {
    id: "99999999-2222-3333-4444-555555555555",
    requestId: "11111111-2222-3333-4444-555555555555",
    subjectId: "carol",
    resourceId: "incident-db",
    connectorName: "demo",
    principal: "carol",
    target: { role: "incident" },
    entitlementKey: "k",
    status: "active",
    version: 2,
    durationSeconds: 14_400,
    startsAt: now,
    expiresAt: new Date(now.getTime() + 14_400_000),
    activatedAt: now,
    revokedAt: null,
    revokeReason: null,
    revokedById: null,
    receipt: null,
    hasSecret: false,
    attempts: 1,
    lastError: null,
    createdAt: now,
    updatedAt: now,
    trigger,
  };
}

const incidentFact = {
  label: "Incident",
  value: "INC #42: Database latency\nhttps://acme.pagerduty.com/incidents/PINC1",
};

describe("cards of access an incident opened", () => {
  it("the approval card says which incident, with its link", () => {
    const card = approvalCard(book, request(incident));
    expect(card.title).toBe("Carol (carol) requests incident-db for 4h for INC #42: Database latency");
    expect(card.facts).toContainEqual(incidentFact);
  });

  it("the grant card and the holder's notices say it too", () => {
    const card = grantCard(book, grant(incident), 14_400);
    expect(card.title).toMatch(/^incident-db: active until .* for INC #42: Database latency$/);
    expect(card.facts).toContainEqual(incidentFact);
    const granted = grantNotice(book, "granted", grant(incident), 14_400);
    expect(granted.title).toMatch(/^Your access to incident-db for INC #42: Database latency is active until /);
    expect(granted.facts).toEqual([incidentFact]);
    const revoked = grantNotice(book, "revoked", { ...grant(incident), status: "revoked" }, 14_400);
    expect(revoked.title).toBe("Your access to incident-db for INC #42: Database latency has ended");
  });

  it("access somebody asked for shows no incident", () => {
    expect(approvalCard(book, request()).facts.map((f) => f.label)).not.toContain("Incident");
    expect(grantCard(book, grant(null), 14_400).title).not.toContain("INC");
  });
});
