import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { auditEvents, expectIntactAuditChain, getRequest, waitForGrantStatus } from "./support.js";

/**
 * Approval flows through the REST API: N of M, ordered steps, auto-approval, and the refusals a
 * requester gets for a missing ticket or reason, an unknown resource or a resource they may not
 * request. Every refusal must leave nothing behind.
 */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
  - { id: carol, email: carol@example.com }
  - { id: erin, email: erin@example.com }
  - { id: frank, email: frank@example.com }
  - { id: grace, email: grace@example.com }
  - { id: mallory, email: mallory@example.com }
  - { id: dave, email: dave@example.com, admin: true }
groups:
  sre: [bob, carol, erin]
  security: [frank, grace]
connectors:
  noop: { type: noop }
resources:
  two-key-db: { connector: noop, target: { role: admin } }
  stepped-db: { connector: noop, target: { role: owner } }
  sandbox: { connector: noop, target: { role: dev }, risk: low }
  ticketed-db: { connector: noop, target: { role: rw } }
  change-db: { connector: noop, target: { role: rw } }
  restricted-db: { connector: noop, target: { role: root } }
policies:
  - id: two-key
    resources: [two-key-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 4h }
    approvers: { groups: [sre] }
    requiredApprovals: 2
  - id: stepped
    resources: [stepped-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 4h }
    steps:
      - { name: team lead, approvers: { users: [bob] } }
      - { name: security, approvers: { groups: [security] } }
  - id: sandbox
    resources: [sandbox]
    requesters: { everyone: true }
    duration: { default: 1h, max: 8h }
    reason: { required: false }
    approvers: { users: [bob] }
    autoApprove:
      - { reason: sandbox is low risk, resourceRisk: low }
  - id: ticketed
    resources: [ticketed-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 4h }
    ticket: { required: true, pattern: "^OPS-[0-9]+$", hint: "Give the OPS ticket of the incident, e.g. OPS-1234." }
    approvers: { groups: [sre] }
  - id: change
    resources: [change-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 4h }
    reason: { required: false }
    ticket: { required: true, pattern: "^CHG[0-9]{6}$" }
    approvers: { groups: [sre] }
  - id: restricted
    resources: [restricted-db]
    requesters: { users: [bob] }
    duration: { default: 30m, max: 1h }
    approvers: { users: [carol] }
`;

let sesame: TestSesame;

async function submit(identity: string, body: Record<string, unknown>) {
  return sesame.api(identity, "POST", "/api/v1/requests", body);
}

async function requestCount(): Promise<number> {
  return sesame.runtime.db.accessRequest.count();
}

beforeAll(async () => {
  sesame = await startSesame("int_approval_flows", {
    policy,
    identities: ["alice", "bob", "carol", "erin", "frank", "grace", "mallory", "dave"],
  });
});

afterAll(async () => {
  await sesame?.stop();
});

describe("N of M approvals", () => {
  it("stays pending after the first approval and approves on the second", async () => {
    const created = await submit("alice", { resource: "two-key-db", reason: "schema migration" });
    expect(created.status).toBe(201);
    expect(created.body.steps).toEqual([
      { name: "approval", approvers: ["bob", "carol", "erin"], required: 2, received: 0 },
    ]);

    const first = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {
      version: created.body.version,
      comment: "looks fine",
    });
    expect(first.status).toBe(200);
    expect(first.body.status).toBe("pending");
    expect(first.body.steps[0]).toMatchObject({ required: 2, received: 1 });
    expect(first.body.grant).toBeNull();
    expect(first.body.version).toBeGreaterThan(created.body.version);

    // The same person approving twice does not count twice.
    const again = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/already approved/);
    // A card sent before bob's approval is stale now.
    const stale = await sesame.api("carol", "POST", `/api/v1/requests/${created.body.id}/approve`, {
      version: created.body.version,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("stale");

    const second = await sesame.api("carol", "POST", `/api/v1/requests/${created.body.id}/approve`, {
      version: first.body.version,
    });
    expect(second.status).toBe(200);
    expect(second.body.status).toBe("approved");
    expect(second.body.decidedBy).toBe("carol");
    expect(second.body.steps[0]).toMatchObject({ required: 2, received: 2 });
    expect(second.body.decisions.map((d: { approverId: string }) => d.approverId)).toEqual(["bob", "carol"]);
    expect(second.body.grant).toEqual(expect.any(String));
    await waitForGrantStatus(sesame, "alice", second.body.grant, "active");

    const types = (await auditEvents(sesame, { requestId: created.body.id })).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        "request.submitted",
        "request.approval_recorded",
        "request.approved",
        "grant.scheduled",
        "grant.activated",
      ]),
    );
  });

  it("is denied outright by a denial after one approval, and no grant is created", async () => {
    const created = await submit("alice", { resource: "two-key-db", reason: "bulk delete" });
    await sesame.api("erin", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    const denied = await sesame.api("carol", "POST", `/api/v1/requests/${created.body.id}/deny`, {
      reason: "use the batch job",
    });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({
      status: "denied",
      decidedBy: "carol",
      decisionReason: "use the batch job",
      grant: null,
    });
    const late = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/already denied by carol/);
    expect(await sesame.runtime.db.grant.count({ where: { requestId: created.body.id } })).toBe(0);
  });
});

describe("ordered approval steps", () => {
  it("only lets each step's approvers decide, in order", async () => {
    const created = await submit("alice", { resource: "stepped-db", reason: "restore a backup" });
    expect(created.status).toBe(201);
    expect(created.body.currentStep).toBe(0);
    expect(created.body.steps.map((s: { name: string; approvers: string[] }) => [s.name, s.approvers])).toEqual([
      ["team lead", ["bob"]],
      ["security", ["frank", "grace"]],
    ]);
    const awaiting = async (who: string) =>
      (await sesame.api(who, "GET", "/api/v1/requests?awaitingMe=true")).body.requests.map((r: { id: string }) => r.id);
    expect(await awaiting("bob")).toContain(created.body.id);
    expect(await awaiting("frank")).not.toContain(created.body.id);

    const tooEarly = await sesame.api("frank", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(tooEarly.status).toBe(403);
    expect(tooEarly.body.error.message).toMatch(/not an approver for this request at its current step/);
    expect((await getRequest(sesame, "alice", created.body.id)).decisions).toEqual([]);

    const lead = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(lead.status).toBe(200);
    expect(lead.body).toMatchObject({ status: "pending", currentStep: 1, grant: null });
    expect(lead.body.steps.map((s: { received: number }) => s.received)).toEqual([1, 0]);
    expect(await awaiting("bob")).not.toContain(created.body.id);
    expect(await awaiting("frank")).toContain(created.body.id);

    // The first step's approver has no say in the second step.
    const leadAgain = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(leadAgain.status).toBe(403);

    const security = await sesame.api("frank", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(security.status).toBe(200);
    expect(security.body).toMatchObject({ status: "approved", decidedBy: "frank" });
    expect(security.body.steps.map((s: { received: number }) => s.received)).toEqual([1, 1]);
    await waitForGrantStatus(sesame, "alice", security.body.grant, "active");
  });
});

describe("auto-approval", () => {
  it("approves a low-risk request at once, says why, and activates it with no human involved", async () => {
    const created = await submit("mallory", { resource: "sandbox", duration: "30m" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: "approved",
      autoApprovalReason: "sandbox is low risk",
      decisions: [],
      decidedBy: null,
    });
    expect(created.body.grant).toEqual(expect.any(String));
    const grant = await waitForGrantStatus(sesame, "mallory", created.body.grant, "active");
    expect(grant).toMatchObject({ subject: "mallory", resource: "sandbox", principal: "mallory" });

    const events = await auditEvents(sesame, { requestId: created.body.id });
    expect(events.find((e) => e.type === "request.auto_approved")?.data).toMatchObject({ rule: "sandbox is low risk" });
    expect(events.some((e) => e.actorId !== null && e.actorId !== "mallory")).toBe(false);
  });
});

describe("refusals create nothing", () => {
  it("refuses a missing ticket, showing the hint", async () => {
    const before = await requestCount();
    const response = await submit("alice", { resource: "ticketed-db", reason: "incident" });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/ticket is required for ticketed-db/);
    expect(response.body.error.message).toContain("Give the OPS ticket of the incident, e.g. OPS-1234.");
    expect(await requestCount()).toBe(before);
  });

  it("refuses a ticket that does not match, showing the hint, and lists no new request", async () => {
    const before = (await sesame.api("alice", "GET", "/api/v1/requests?resource=ticketed-db")).body.requests.length;
    const response = await submit("alice", { resource: "ticketed-db", reason: "incident", ticket: "JIRA-12" });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('"JIRA-12"');
    expect(response.body.error.message).toContain("e.g. OPS-1234");
    expect(response.body.error.details).toMatchObject({ field: "ticket", pattern: "^OPS-[0-9]+$" });
    expect((await sesame.api("alice", "GET", "/api/v1/requests?resource=ticketed-db")).body.requests).toHaveLength(
      before,
    );
  });

  it("names the pattern when the policy gives no hint", async () => {
    const before = await requestCount();
    const response = await submit("alice", { resource: "change-db", ticket: "change 12" });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain("^CHG[0-9]{6}$");
    expect(await requestCount()).toBe(before);
  });

  it("accepts a matching ticket", async () => {
    const response = await submit("alice", { resource: "ticketed-db", reason: "incident", ticket: " OPS-4711 " });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ status: "pending", ticket: "OPS-4711" });
    await sesame.api("alice", "POST", `/api/v1/requests/${response.body.id}/cancel`);
  });

  it("refuses a missing or blank reason where one is required", async () => {
    const before = await requestCount();
    for (const body of [{ resource: "two-key-db" }, { resource: "two-key-db", reason: "   " }]) {
      const response = await submit("alice", body);
      expect(response.status).toBe(400);
      expect(response.body.error.message).toMatch(/reason is required for two-key-db/);
    }
    expect(await requestCount()).toBe(before);
  });

  it("answers an unknown resource with the resources the person may request", async () => {
    const before = await requestCount();
    const response = await submit("alice", { resource: "prod-dbb", reason: "typo" });
    expect(response.status).toBe(404);
    expect(response.body.error.message).toContain('There is no resource "prod-dbb"');
    for (const resource of ["two-key-db", "stepped-db", "sandbox", "ticketed-db", "change-db"])
      expect(response.body.error.message).toContain(resource);
    expect(response.body.error.message).not.toContain("restricted-db");
    expect(response.body.error.details.allowed).toEqual(expect.arrayContaining(["two-key-db", "sandbox"]));
    expect(await requestCount()).toBe(before);
  });

  it("refuses a person no policy lets request the resource", async () => {
    const before = await requestCount();
    const response = await submit("mallory", { resource: "restricted-db", reason: "curious" });
    expect(response.status).toBe(403);
    expect(response.body.error.message).toMatch(/You may not request restricted-db/);
    expect(response.body.error.message).toMatch(/You may request: sandbox\./);
    expect(await requestCount()).toBe(before);
  });
});

describe("audit", () => {
  it("keeps an intact hash chain of every flow above", async () => {
    await expectIntactAuditChain(sesame, 15);
  });
});
