import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { waitFor } from "../helpers/wait.js";
import { type FakePagerDuty, startFakePagerDuty } from "../oncall/fake-pagerduty.js";
import { auditEvents, getRequest, SLOW_MS, waitForGrantStatus, waitForRequestStatus } from "./support.js";

/**
 * The escalation ladder, on-call approvers, on-call auto-approval and break-glass, through the
 * REST API. PagerDuty is a local stand-in speaking the documented REST `/oncalls` and Events API
 * v2 shapes (no real PagerDuty can run here). Delayed ladder steps are promoted, not waited for.
 */

const POLICY = `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
  - { id: carol, email: carol@example.com }
  - { id: oscar, email: oscar@example.com }
  - { id: sam, email: sam@example.com }
oncall:
  db-primary: { provider: pagerduty, schedule: PSCHED1, level: 1 }
  db-secondary: { provider: pagerduty, schedule: PSCHED1, level: 2 }
connectors:
  demo: { type: noop }
resources:
  prod-db: { connector: demo }
  reports: { connector: demo }
policies:
  - id: prod
    resources: [prod-db]
    requesters: { users: [alice, oscar, sam] }
    duration: { default: 1h, max: 4h }
    approvers: { users: [bob] }
    autoApprove:
      - reason: primary on-call may take prod-db
        requesterOnCall: db-primary
        endWithShift: true
    escalation:
      - { after: 10m, action: remind }
      - { after: 20m, action: reroute, to: { users: [carol] } }
      - { after: 30m, action: page, oncall: db-primary }
      - { after: 1h, action: expire }
    breakGlass: { maxDuration: 30m, page: db-primary }
  - id: reports
    resources: [reports]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 2h }
    approvers: { users: [bob], oncall: [db-secondary] }
`;

let sesame: TestSesame;
let pagerDuty: FakePagerDuty;

beforeAll(async () => {
  pagerDuty = await startFakePagerDuty({ apiToken: "pd-token-0123456789", routingKey: "pd-routing-0123456789" });
  sesame = await startSesame("escalation", {
    policy: POLICY,
    identities: ["alice", "bob", "carol", "oscar", "sam"],
    env: {
      PAGERDUTY_API_TOKEN: "pd-token-0123456789",
      PAGERDUTY_ROUTING_KEY: "pd-routing-0123456789",
      PAGERDUTY_API_URL: pagerDuty.url,
      PAGERDUTY_EVENTS_URL: pagerDuty.url,
    },
  });
});
afterAll(async () => {
  await sesame?.stop();
  await pagerDuty?.close();
});
// Look-ups are cached for a minute per source, as in production: the tests run in this order on purpose.
beforeEach(() => pagerDuty.reset());

async function submit(identity: string, body: Record<string, unknown>) {
  const created = await sesame.api(identity, "POST", "/api/v1/requests", { reason: "INC-7", ...body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body;
}

async function runLadderStep(requestId: string, step: number, expectedLogLength: number) {
  const job = await sesame.runtime.queues.escalations.getJob(`escalate-${requestId}-${step}`);
  expect(job, `escalation job ${step}`).toBeDefined();
  expect(await job!.getState()).toBe("delayed");
  await job!.promote();
  await waitFor(
    async () => (await getRequest(sesame, "alice", requestId)).escalation.length === expectedLogLength,
    `ladder step ${step}`,
    SLOW_MS,
  );
}

describe("on-call", () => {
  it("falls back to people, and says so, when PagerDuty fails: nothing is auto-approved", async () => {
    pagerDuty.failWith(500);
    const request = await submit("oscar", { resource: "prod-db" });
    expect(request.status).toBe("pending");
    expect(request.onCallNote).toMatch(/On-call for db-primary could not be checked right now/);
    pagerDuty.answerGarbage();
    const again = await submit("oscar", { resource: "prod-db" });
    expect(again.status).toBe("pending");
  });

  it("auto-approves the primary on call, not the secondary, and ends the grant with the shift", async () => {
    const shiftEnd = new Date(Date.now() + 30 * 60_000);
    pagerDuty.setOnCall([
      { email: "oscar@example.com", level: 1, schedule: "PSCHED1", end: shiftEnd.toISOString() },
      { email: "sam@example.com", level: 2, schedule: "PSCHED1" },
    ]);
    const before = Date.now();
    const primary = await submit("oscar", { resource: "prod-db", duration: "2h" });
    const after = Date.now();
    expect(primary.status).toBe("approved");
    expect(primary.autoApprovalReason).toMatch(
      /^primary on-call may take prod-db \(on call for db-primary until .*; the grant ends with the shift\)$/,
    );
    // Cut from 2h to what was left of the shift when Sesame decided, somewhere between before and after.
    expect(primary.durationSeconds).toBeLessThanOrEqual(Math.floor((shiftEnd.getTime() - before) / 1000));
    expect(primary.durationSeconds).toBeGreaterThanOrEqual(Math.floor((shiftEnd.getTime() - after) / 1000));
    const grant = await waitForGrantStatus(sesame, "oscar", primary.grant, "active");
    expect(new Date(grant.expiresAt).getTime() - new Date(grant.activatedAt).getTime()).toBe(
      primary.durationSeconds * 1000,
    );
    const secondary = await submit("sam", { resource: "prod-db" });
    expect(secondary.status).toBe("pending");
    const query = pagerDuty.requests.find((r) => r.path === "/oncalls")!.query;
    expect(query.getAll("schedule_ids[]")).toEqual(["PSCHED1"]);
    expect(query.getAll("escalation_levels[]")).toEqual(["1"]);
  });

  it("asks whoever is on call when the policy names an on-call source as approver", async () => {
    pagerDuty.setOnCall([{ email: "sam@example.com", level: 2, schedule: "PSCHED1" }]);
    const request = await submit("alice", { resource: "reports" });
    expect(request.steps[0].approvers).toEqual(["bob", "sam"]);
    const approved = await sesame.api("sam", "POST", `/api/v1/requests/${request.id}/approve`, {
      version: request.version,
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.status).toBe("approved");
  });
});

describe("break-glass", () => {
  it("grants at once, pages on-call, and waits for a review nobody may give themselves", async () => {
    const request = await submit("alice", {
      resource: "prod-db",
      duration: "15m",
      breakGlass: true,
      reason: "prod is down, INC-9",
    });
    expect(request).toMatchObject({
      status: "approved",
      breakGlass: true,
      review: null,
      autoApprovalReason: "break-glass: prod is down, INC-9",
    });
    await waitForGrantStatus(sesame, "alice", request.grant, "active");
    await waitFor(async () => pagerDuty.events.length === 1, "the break-glass page", SLOW_MS);
    expect(pagerDuty.events[0]).toMatchObject({
      event_action: "trigger",
      dedup_key: `sesame-${request.id}`,
      payload: { severity: "critical" },
    });

    const { createStore } = await import("../../src/storage/store.js");
    const unreviewed = await createStore(sesame.runtime.db).listRequests({ unreviewedBreakGlass: true });
    expect(unreviewed.map((r) => r.id)).toContain(request.id);

    const self = await sesame.api("alice", "POST", `/api/v1/requests/${request.id}/review`, { note: "fine" });
    expect(self.status).toBe(403);
    const reviewed = await sesame.api("bob", "POST", `/api/v1/requests/${request.id}/review`, {
      note: "checked the session log",
    });
    expect(reviewed.status, JSON.stringify(reviewed.body)).toBe(200);
    expect(reviewed.body.review).toMatchObject({ by: "bob", note: "checked the session log" });
    await waitFor(async () => pagerDuty.openIncidents().length === 0, "the break-glass page to be resolved", SLOW_MS);
    const twice = await sesame.api("carol", "POST", `/api/v1/requests/${request.id}/review`, {});
    expect(twice.status).toBe(403);
    const types = (await auditEvents(sesame, { requestId: request.id })).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        "request.break_glass",
        "request.auto_approved",
        "request.break_glass_paged",
        "request.break_glass_reviewed",
      ]),
    );
  });

  it("works from a chat command too, and a bad one creates nothing", async () => {
    const { runCommand } = await import("../../src/chat/core/chat-commands.js");
    const deps = sesame.runtime.deps;
    const ok = await runCommand(deps, "alice", "break-glass prod-db 10m database on fire");
    expect(ok.kind === "reply" && ok.text).toMatch(/^Break-glass: prod-db is being granted now for 10m\./);
    const before = (await deps.store.listRequests({ requesterId: "alice" })).length;
    const refused = await runCommand(deps, "alice", "break-glass reports 10m nope");
    expect(refused.kind === "reply" && refused.text).toMatch(
      /Break-glass is not allowed for reports.*Nothing was requested\./,
    );
    expect(await deps.store.listRequests({ requesterId: "alice" })).toHaveLength(before);
  });

  it("refuses break-glass beyond its maximum, without a reason, or where the policy does not allow it, and creates nothing", async () => {
    const tooLong = await sesame.api("alice", "POST", "/api/v1/requests", {
      resource: "prod-db",
      duration: "1h",
      breakGlass: true,
      reason: "x",
    });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.error.message).toMatch(/lasts at most 30m/);
    const noReason = await sesame.api("alice", "POST", "/api/v1/requests", {
      resource: "prod-db",
      duration: "10m",
      breakGlass: true,
      reason: " ",
    });
    expect([400, 422]).toContain(noReason.status);
    const notAllowed = await sesame.api("alice", "POST", "/api/v1/requests", {
      resource: "reports",
      breakGlass: true,
      reason: "x",
    });
    expect(notAllowed.status).toBe(422);
    expect(notAllowed.body.error.message).toMatch(/Break-glass is not allowed for reports/);
    await waitForRequestStatus(sesame, "alice", (await submit("alice", { resource: "reports" })).id, "pending");
  });
});

describe("the escalation ladder", () => {
  it("reminds, re-routes, pages on-call, and resolves the page once someone decides; the requester sees each step", async () => {
    pagerDuty.setOnCall([{ email: "oscar@example.com", level: 1, schedule: "PSCHED1" }]);
    const before = Date.now();
    const request = await submit("alice", { resource: "prod-db" });
    const after = Date.now();
    expect(request.status).toBe("pending");
    // The ladder's expire step (1h) is the pending deadline, counted from submission (between before and after).
    expect(new Date(request.pendingUntil).getTime()).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(new Date(request.pendingUntil).getTime()).toBeLessThanOrEqual(after + 3_600_000);

    await runLadderStep(request.id, 0, 1);
    await runLadderStep(request.id, 1, 2);
    const rerouted = await getRequest(sesame, "alice", request.id);
    expect(rerouted.steps[0].approvers).toEqual(["bob", "carol"]);
    expect(pagerDuty.events).toEqual([]);

    await runLadderStep(request.id, 2, 3);
    const paged = await getRequest(sesame, "alice", request.id);
    expect(paged.escalation.map((e: { summary: string }) => e.summary)).toEqual([
      "reminded the approvers",
      "also asked carol",
      "paged on-call db-primary (asked oscar)",
    ]);
    expect(paged.steps[0].approvers).toEqual(["bob", "carol", "oscar"]);
    expect(pagerDuty.events).toEqual([
      expect.objectContaining({
        event_action: "trigger",
        dedup_key: `sesame-${request.id}`,
        routing_key: "pd-routing-0123456789",
      }),
    ]);

    // The on-call person asked by the ladder may decide.
    const approved = await sesame.api("oscar", "POST", `/api/v1/requests/${request.id}/approve`, {
      version: paged.version,
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    await waitFor(
      async () => pagerDuty.openIncidents().length === 0 && pagerDuty.events.length === 2,
      "the page to be resolved",
      SLOW_MS,
    );
    expect(pagerDuty.events[1]).toMatchObject({ event_action: "resolve", dedup_key: `sesame-${request.id}` });
    const types = (await auditEvents(sesame, { requestId: request.id })).map((e) => e.type);
    expect(types.filter((t) => t === "request.escalated")).toHaveLength(3);
  });

  it("does nothing more once the request is decided in the middle of the ladder", async () => {
    const request = await submit("alice", { resource: "prod-db" });
    await runLadderStep(request.id, 0, 1);
    const current = await getRequest(sesame, "bob", request.id);
    expect(
      (
        await sesame.api("bob", "POST", `/api/v1/requests/${request.id}/deny`, {
          version: current.version,
          reason: "not now",
        })
      ).status,
    ).toBe(200);
    for (const step of [1, 2]) {
      const job = await sesame.runtime.queues.escalations.getJob(`escalate-${request.id}-${step}`);
      await job!.promote();
      // Finished jobs are removed, so a finished job reads as "unknown".
      await waitFor(
        async () => ["completed", "unknown"].includes(await job!.getState()),
        `step ${step} to run`,
        SLOW_MS,
      );
    }
    const after = await getRequest(sesame, "alice", request.id);
    expect(after.status).toBe("denied");
    expect(after.escalation).toHaveLength(1);
    expect(pagerDuty.events).toEqual([]);
    expect(pagerDuty.requests).toEqual([]);
  });

  it("is repaired by the sweeper when Redis lost the ladder's jobs", async () => {
    const request = await submit("alice", { resource: "prod-db" });
    await sesame.flushRedis();
    const later = new Date(Date.now() + 11 * 60_000);
    const deps = { ...sesame.runtime.deps, now: () => later };
    const { sweep } = await import("../../src/services/sweep.js");
    const report = await sweep(deps);
    // Other tests' pending requests are due too; this one must be among them.
    expect(report.escalationsRun).toBeGreaterThanOrEqual(1);
    expect(
      (await getRequest(sesame, "alice", request.id)).escalation.map((e: { summary: string }) => e.summary),
    ).toEqual(["reminded the approvers"]);
  });
});
