import { describe, expect, it } from "vitest";
import { requestNotice } from "../../../src/chat/core/notices.js";
import { approvalCard } from "../../../src/chat/core/request-cards.js";
import type { RequestRow } from "../../../src/domain/access-request.js";
import { PolicyBook } from "../../../src/domain/policy/policy-book.js";
import { PolicyFileSchema } from "../../../src/domain/policy/policy-schema.js";

const book = new PolicyBook(
  PolicyFileSchema.parse({
    version: 1,
    people: [
      { id: "alice", email: "alice@example.com", name: "Alice" },
      { id: "bob", email: "bob@example.com", name: "Bob" },
    ],
    connectors: { pg: { type: "postgres" } },
    resources: { "demo-db": { connector: "pg", target: { role: "app" }, actions: {} } },
    policies: [
      {
        id: "p",
        resources: ["demo-db"],
        requesters: { users: ["alice"] },
        duration: { default: "1h", max: "1h" },
        approvers: { users: ["bob"] },
      },
    ],
  }),
);

function actionRequest(text: string): RequestRow {
  const now = new Date("2026-03-01T12:00:00Z");
  return {
    id: "11111111-2222-3333-4444-555555555555",
    kind: "access",
    requesterId: "alice",
    resourceId: "demo-db",
    policyId: "p",
    durationSeconds: 0,
    reason: "OPS-1",
    ticket: null,
    status: "pending",
    version: 1,
    snapshot: {
      policyId: "p",
      steps: [{ name: "approval", approverIds: ["bob"], required: 1 }],
      selfApproval: false,
      matchedBecause: "policy p",
      maxDurationSeconds: 3600,
      extension: { requiresApproval: true, maxTotalSeconds: 3600 },
      connectorName: "pg",
      target: { role: "app" },
      principal: "alice",
      entitlementKey: "k",
      action: {
        kind: "sql",
        text,
        sha256: "a".repeat(64),
        class: "write",
        classWhy: "UPDATE changes data",
        limits: { rowLimit: 100, maxAffectedRows: null, statementTimeoutMs: 5000 },
      },
    },
    currentStep: 0,
    autoApprovalReason: null,
    decisionReason: null,
    decidedById: null,
    extendsGrantId: null,
    grantId: null,
    pendingUntil: new Date(now.getTime() + 3_600_000),
    decidedAt: null,
    createdAt: now,
    decisions: [],
    escalationLog: [],
    breakGlass: false,
    reviewedAt: null,
    reviewedById: null,
    reviewNote: null,
  };
}

describe("the approval card of an action", () => {
  it("shows the exact text, its class and why, its hash and who must approve, and no duration", () => {
    const card = approvalCard(book, actionRequest("UPDATE t SET a = 1 WHERE id = 2"));
    expect(card.title).toBe("Alice (alice) asks to run one action on demo-db: SQL that changes data");
    expect(card.facts).toContainEqual({
      label: "Action (the exact SQL that will run once)",
      value: "UPDATE t SET a = 1 WHERE id = 2",
    });
    expect(card.facts).toContainEqual({ label: "Class", value: "SQL that changes data: UPDATE changes data" });
    expect(card.facts.map((fact) => fact.label)).not.toContain("Duration");
    expect(card.notes.join(" ")).toMatch(/Approvers now: Bob/);
    expect(card.actions).toEqual([
      { kind: "approve", requestId: expect.any(String), version: 1 },
      { kind: "deny", requestId: expect.any(String), version: 1 },
    ]);
  });

  it("truncates a long text visibly and says where to read it whole", () => {
    const long = `UPDATE t SET a = 1 WHERE id IN (${Array.from({ length: 800 }, (_, i) => i).join(", ")})`;
    const fact = approvalCard(book, actionRequest(long)).facts.find((f) => f.label.startsWith("Action"))!;
    expect(fact.value.length).toBe(1500);
    expect(fact.value).toMatch(/… \(truncated: read it whole with GET \/api\/v1\/requests\/11111111-/);
  });
});

describe("a Kubernetes action in chat", () => {
  const restart = (): RequestRow => {
    const request = actionRequest("rollout restart deployment/web");
    request.snapshot.action = {
      ...request.snapshot.action!,
      kind: "kubernetes",
      class: "restart",
      classWhy: "restarts deployment web in namespace team-a (its pods are replaced one by one)",
    };
    return request;
  };

  it("names the operation on the approval card", () => {
    const card = approvalCard(book, restart());
    expect(card.title).toBe("Alice (alice) asks to run one action on demo-db: a Kubernetes rollout restart");
    expect(card.facts).toContainEqual({
      label: "Action (the exact Kubernetes operation that will run once)",
      value: "rollout restart deployment/web",
    });
  });

  it("tells the requester the output, which says what happened in place of rows", () => {
    const card = requestNotice(book, "action_finished", restart(), {
      status: "succeeded",
      result: { rowCount: null, columns: [], rows: [], truncated: false, output: "deployment.apps/web restarted" },
    });
    expect(card.title).toBe("Your action on demo-db ran: succeeded");
    expect(card.notes).toEqual(["Outcome: succeeded.", "deployment.apps/web restarted", "Request 11111111."]);
  });
});

describe("the requester's notice when an action ended with output (a runner's) or unknown", () => {
  const result = { rowCount: null, columns: [], rows: [], truncated: false };

  it("shows the runner's output, and where to read more when it was cut", () => {
    const output = `billing restarted\n${"x".repeat(3000)}`;
    const notice = requestNotice(book, "action_finished", actionRequest("systemctl restart billing"), {
      status: "succeeded",
      result: { ...result, output, truncated: true },
    });
    expect(notice.title).toBe("Your action on demo-db ran: succeeded");
    expect(notice.notes.some((note) => note.startsWith("billing restarted\nxxx"))).toBe(true);
    expect(notice.notes).toContain("More output at GET /api/v1/requests/11111111-2222-3333-4444-555555555555.");
  });

  it("says an unknown outcome may or may not have run, with the runner's reason", () => {
    const notice = requestNotice(book, "action_finished", actionRequest("systemctl restart billing"), {
      status: "unknown",
      result: { ...result, error: "Unknown whether it ran: the runner at http://runner/ did not answer within 35 s." },
    });
    expect(notice.notes).toContain(
      "It may or may not have run, and it is not retried: check the target before asking again.",
    );
    expect(notice.notes.join(" ")).toMatch(/Error: Unknown whether it ran: the runner/);
  });
});
