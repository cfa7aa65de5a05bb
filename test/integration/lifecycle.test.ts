import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { NoopConnector } from "../../src/connectors/noop/noop-connector.js";
import { jobId } from "../../src/jobs/queues.js";
import { decideRequest } from "../../src/services/decide-request.js";
import type { ServiceDeps } from "../../src/services/deps.js";
import { relinquishGrant } from "../../src/services/relinquish-grant.js";
import { revokeApiTokens } from "../../src/storage/api-token-repository.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { waitFor } from "../helpers/wait.js";
import {
  activeGrant,
  auditEvents,
  expectIntactAuditChain,
  getGrant,
  getRequest,
  waitForGrantStatus,
  waitForRequestStatus,
} from "./support.js";

/**
 * The life of requests and grants after submission, through the REST API: cancel, relinquish,
 * admin revoke, extensions, pending timeouts, and what the sweeper repairs when Redis lost a job
 * or a process died between commit and enqueue.
 */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
  - { id: carol, email: carol@example.com }
  - { id: erin, email: erin@example.com }
  - { id: dave, email: dave@example.com, admin: true }
connectors:
  noop: { type: noop }
resources:
  app-db: { connector: noop, target: { role: app } }
  gated-db: { connector: noop, target: { role: gated } }
  slow-db: { connector: noop, target: { role: slow } }
  idle-db: { connector: noop, target: { role: idle } }
policies:
  - id: app
    resources: [app-db]
    requesters: { users: [alice, bob, erin] }
    duration: { default: 1h, max: 2h }
    reason: { required: false }
    approvers: { users: [carol] }
    extension: { requiresApproval: false, maxTotal: 3h }
  - id: gated
    resources: [gated-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 2h }
    approvers: { users: [carol] }
    extension: { requiresApproval: true, maxTotal: 2h }
  - id: slow
    resources: [slow-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 2h }
    reason: { required: false }
    approvers: { users: [carol] }
    pendingTimeout: 2s
  - id: idle
    resources: [idle-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 2h }
    reason: { required: false }
    approvers: { users: [carol] }
    pendingTimeout: 10m
`;

let sesame: TestSesame;
const ms = (iso: string) => new Date(iso).getTime();

/**
 * Simulates a process that committed but died before enqueueing the follow-up job, or whose job
 * Redis lost right after: the enqueue seems to succeed, so nothing falls back to running inline.
 */
function depsThatLoseJobs(): ServiceDeps {
  const deps = sesame.runtime.deps;
  const lost = async () => undefined;
  return { ...deps, jobs: { ...deps.jobs, enqueueActivation: lost, scheduleRevoke: lost } };
}

/** Makes a grant look untouched for five minutes: the sweeper leaves younger ones to their jobs. */
async function backdate(grantId: string): Promise<void> {
  await sesame.runtime.db
    .$executeRaw`UPDATE "Grant" SET "updatedAt" = now() - interval '5 minutes' WHERE id = ${grantId}`;
}

beforeAll(async () => {
  sesame = await startSesame("int_lifecycle", { policy, identities: ["alice", "bob", "carol", "erin", "dave"] });
});

afterAll(async () => {
  await sesame?.stop();
});

describe("cancelling a request", () => {
  it("lets only the requester cancel a pending request", async () => {
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db" });
    expect(created.status).toBe(201);

    // bob can't even see it; carol (the approver) can see it but may not cancel it.
    expect((await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/cancel`)).status).toBe(404);
    const byApprover = await sesame.api("carol", "POST", `/api/v1/requests/${created.body.id}/cancel`);
    expect(byApprover.status).toBe(403);
    expect(byApprover.body.error.message).toMatch(/Only the person who made this request can cancel it/);
    expect((await getRequest(sesame, "alice", created.body.id)).status).toBe("pending");

    const cancelled = await sesame.api("alice", "POST", `/api/v1/requests/${created.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: "cancelled", grant: null });

    const again = await sesame.api("alice", "POST", `/api/v1/requests/${created.body.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/cancelled by its requester/);
    const approveLate = await sesame.api("carol", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(approveLate.status).toBe(409);
    expect(await sesame.runtime.db.grant.count({ where: { requestId: created.body.id } })).toBe(0);
  });
});

describe("taking access back", () => {
  it("hides a grant from other people and lets only its holder relinquish it", async () => {
    const { grantId } = await activeGrant(sesame, "alice", "carol", { resource: "app-db" });

    const byStranger = await sesame.api("bob", "POST", `/api/v1/grants/${grantId}/relinquish`);
    expect(byStranger.status).toBe(404);
    expect((await sesame.api("bob", "GET", `/api/v1/grants/${grantId}`)).status).toBe(404);
    // An admin sees it, but relinquishing is the holder's act (admins revoke instead).
    const byAdmin = await sesame.api("dave", "POST", `/api/v1/grants/${grantId}/relinquish`);
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.error.message).toMatch(/an admin can revoke it/);
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("active");

    const relinquished = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
    expect(relinquished.status).toBe(200);
    expect(relinquished.body).toMatchObject({ status: "revoking", revokedBy: "alice", revokeReason: "relinquished" });
    const revoked = await waitForGrantStatus(sesame, "alice", grantId, "revoked");
    expect(ms(revoked.revokedAt)).toBeLessThan(ms(revoked.expiresAt));
    expect((sesame.runtime.connectors.get("noop") as NoopConnector).activeGrantIds()).not.toContain(grantId);

    // Relinquishing twice is harmless.
    const twice = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
    expect(twice.status).toBe(200);
    expect(twice.body.status).toBe("revoked");
  });

  it("lets only admins revoke someone else's grant", async () => {
    const { grantId } = await activeGrant(sesame, "bob", "carol", { resource: "app-db" });
    for (const who of ["alice", "carol", "bob"]) {
      const attempt = await sesame.api(who, "POST", `/api/v1/grants/${grantId}/revoke`, { reason: "not mine to take" });
      expect(attempt.status, who).toBe(403);
      expect(attempt.body.error.message).toMatch(/Only admins/);
    }
    expect((await getGrant(sesame, "bob", grantId)).status).toBe("active");

    const byAdmin = await sesame.api("dave", "POST", `/api/v1/grants/${grantId}/revoke`, { reason: "offboarding" });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toMatchObject({ status: "revoking", revokedBy: "dave", revokeReason: "admin: offboarding" });
    await waitForGrantStatus(sesame, "bob", grantId, "revoked");
    const requested = (await auditEvents(sesame, { grantId })).find((e) => e.type === "grant.revoke_requested");
    expect(requested).toMatchObject({ actorId: "dave", data: { cause: "admin", reason: "offboarding" } });
  });
});

describe("waiting for a grant's status (GET /grants/:id?waitFor=…)", () => {
  it("answers once the grant reaches the status, and keeps no waiter behind", async () => {
    const { grantId } = await activeGrant(sesame, "alice", "carol", { resource: "app-db" });
    const waiting = sesame.api("alice", "GET", `/api/v1/grants/${grantId}?waitFor=revoked&waitSeconds=55`);
    await waitFor(async () => sesame.runtime.deps.grantWaits!.waiting === 1, "the read to wait");
    const relinquished = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
    expect(relinquished.status).toBe(200);
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: grantId, status: "revoked" });
    expect(sesame.runtime.deps.grantWaits!.waiting).toBe(0);
  });

  it("answers at once when the status is there, and for another person's grant as not found", async () => {
    const { grantId } = await activeGrant(sesame, "alice", "carol", { resource: "app-db" });
    const now = await sesame.api("alice", "GET", `/api/v1/grants/${grantId}?waitFor=active,revoked`);
    expect(now.body).toMatchObject({ status: "active" });
    const other = await sesame.api("bob", "GET", `/api/v1/grants/${grantId}?waitFor=revoked`);
    expect(other.status).toBe(404);
    expect(sesame.runtime.deps.grantWaits!.waiting).toBe(0);
    await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
  });

  it.each([
    ["waitSeconds without waitFor", "waitSeconds=5"],
    ["more than 55 seconds", "waitFor=active&waitSeconds=56"],
    ["a status that does not exist", "waitFor=approved"],
    ["no status at all", "waitFor=&waitSeconds=5"],
  ])("refuses %s with 400", async (_what, query) => {
    const answer = await sesame.api("alice", "GET", `/api/v1/grants/missing?${query}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("invalid_input");
  });
});

describe("extensions", () => {
  it("extends at once when the policy needs no re-approval", async () => {
    const { grantId, grant } = await activeGrant(sesame, "alice", "carol", { resource: "app-db", duration: "1h" });
    const extended = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/extend`, {
      duration: "30m",
      reason: "migration runs long",
    });
    expect(extended.status).toBe(200);
    expect(extended.body.request).toMatchObject({
      kind: "extension",
      status: "approved",
      extendsGrant: grantId,
      durationSeconds: 1800,
    });
    expect(extended.body.request.autoApprovalReason).toMatch(/without re-approval/);
    expect(ms(extended.body.grant.expiresAt) - ms(grant.expiresAt)).toBe(30 * 60 * 1000);
    expect(ms((await getGrant(sesame, "alice", grantId)).expiresAt)).toBe(ms(extended.body.grant.expiresAt));
    expect(await sesame.runtime.deps.jobs.hasRevokeJob(grantId)).toBe(true);
    // The connector was told the new expiry, for targets that enforce one themselves.
    const connector = sesame.runtime.connectors.get(grant.connector) as unknown as NoopConnector;
    const extendCall = connector.calls.find((call) => call.operation === "extend" && call.grantId === grantId);
    expect(extendCall?.expiresAt.toISOString()).toBe(extended.body.grant.expiresAt);

    // Someone else cannot extend it (they cannot even see it).
    expect((await sesame.api("bob", "POST", `/api/v1/grants/${grantId}/extend`, { duration: "30m" })).status).toBe(404);
    await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
  });

  it("does not revoke an extended grant at its old expiry", async () => {
    const { grantId, grant } = await activeGrant(sesame, "erin", "carol", { resource: "app-db", duration: "1h" });
    const rescheduled = vi.spyOn(sesame.runtime.deps.jobs, "scheduleRevoke");
    try {
      const extended = await sesame.api("erin", "POST", `/api/v1/grants/${grantId}/extend`, { duration: "1h" });
      expect(extended.status).toBe(200);
      // The revoke job moves to the new expiry...
      expect(rescheduled).toHaveBeenCalledWith(grantId, new Date(extended.body.grant.expiresAt));
    } finally {
      rescheduled.mockRestore();
    }
    // ...and a revoke job that runs at the old expiry anyway finds the grant not due and goes back to
    // sleep. Sesame's clock is moved to the old expiry, so nobody waits an hour (or races a short grant).
    sesame.clock.travelTo(new Date(ms(grant.expiresAt) + 1_000));
    try {
      const job = await sesame.runtime.queues.revokes.getJob(jobId.revoke(grantId));
      await job!.promote();
      await waitFor(async () => (await job!.getState()) === "delayed", "the revoke job to run and sleep again");
      expect((await getGrant(sesame, "erin", grantId)).status).toBe("active");
    } finally {
      sesame.clock.reset();
    }
    await sesame.api("erin", "POST", `/api/v1/grants/${grantId}/relinquish`);
    await waitForGrantStatus(sesame, "erin", grantId, "revoked");
  });

  it("turns an extension into a pending request when the policy needs re-approval", async () => {
    const { grantId, grant } = await activeGrant(sesame, "alice", "carol", {
      resource: "gated-db",
      duration: "1h",
      reason: "incident 7",
    });
    const asked = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/extend`, { duration: "30m" });
    expect(asked.status).toBe(200);
    expect(asked.body.request).toMatchObject({
      kind: "extension",
      status: "pending",
      extendsGrant: grantId,
      reason: "incident 7",
      autoApprovalReason: null,
    });
    expect(asked.body.grant.expiresAt).toBe(grant.expiresAt);
    expect(
      (await sesame.api("carol", "GET", "/api/v1/requests?awaitingMe=true")).body.requests.map(
        (r: { id: string }) => r.id,
      ),
    ).toContain(asked.body.request.id);

    const approved = await sesame.api("carol", "POST", `/api/v1/requests/${asked.body.request.id}/approve`, {
      version: asked.body.request.version,
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ kind: "extension", status: "approved", decidedBy: "carol" });
    const after = await getGrant(sesame, "alice", grantId);
    expect(after.status).toBe("active");
    expect(ms(after.expiresAt) - ms(grant.expiresAt)).toBe(30 * 60 * 1000);
    const extendedEvent = (await auditEvents(sesame, { grantId })).find((e) => e.type === "grant.extended");
    expect(extendedEvent?.data).toMatchObject({ byRequest: asked.body.request.id, expiresAt: after.expiresAt });
  });

  it("refuses an extension past the policy's maximum total, naming it", async () => {
    const { grantId, grant } = await activeGrant(sesame, "alice", "carol", { resource: "gated-db", duration: "1h" });
    const before = await sesame.runtime.db.accessRequest.count();
    const tooLong = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/extend`, { duration: "90m" });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.message).toMatch(
      /would make this grant last 2h30m; the maximum in total is 2h, so you can extend by at most 1h\./,
    );
    expect(tooLong.body.error.details).toMatchObject({ field: "duration", maxTotalSeconds: 7200 });
    expect(await sesame.runtime.db.accessRequest.count()).toBe(before);
    expect((await getGrant(sesame, "alice", grantId)).expiresAt).toBe(grant.expiresAt);
    await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
    await waitForGrantStatus(sesame, "alice", grantId, "revoked");
  });

  it("refuses to approve the second of two extensions that together pass the maximum; nothing changes", async () => {
    const { grantId, grant } = await activeGrant(sesame, "alice", "carol", { resource: "gated-db", duration: "1h" });
    const first = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/extend`, { duration: "45m" });
    const second = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/extend`, { duration: "45m" });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect((await sesame.api("carol", "POST", `/api/v1/requests/${first.body.request.id}/approve`, {})).status).toBe(
      200,
    );
    const extendedTo = (await getGrant(sesame, "alice", grantId)).expiresAt;
    expect(ms(extendedTo) - ms(grant.expiresAt)).toBe(45 * 60 * 1000);

    const refused = await sesame.api("carol", "POST", `/api/v1/requests/${second.body.request.id}/approve`, {});
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/the maximum in total is 2h/);
    expect((await getGrant(sesame, "alice", grantId)).expiresAt).toBe(extendedTo);
    expect((await getRequest(sesame, "alice", second.body.request.id)).status).toBe("pending");
    await sesame.api("alice", "POST", `/api/v1/requests/${second.body.request.id}/cancel`);
    await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
    await waitForGrantStatus(sesame, "alice", grantId, "revoked");
  });

  it("refuses to approve an extension whose grant was relinquished meanwhile, and brings nothing back", async () => {
    const { grantId } = await activeGrant(sesame, "alice", "carol", { resource: "gated-db", duration: "1h" });
    const asked = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/extend`, { duration: "30m" });
    expect(asked.body.request.status).toBe("pending");
    await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
    const revoked = await waitForGrantStatus(sesame, "alice", grantId, "revoked");

    const late = await sesame.api("carol", "POST", `/api/v1/requests/${asked.body.request.id}/approve`, {});
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/no longer active \(revoked\).*Deny the extension/);
    const after = await getGrant(sesame, "alice", grantId);
    expect(after).toMatchObject({ status: "revoked", expiresAt: revoked.expiresAt });
    expect((await sesame.api("alice", "GET", `/api/v1/requests/${asked.body.request.id}`)).body.status).toBe("pending");
    const denied = await sesame.api("carol", "POST", `/api/v1/requests/${asked.body.request.id}/deny`, {
      reason: "grant is gone",
    });
    expect(denied.body.status).toBe("denied");
    const types = (await auditEvents(sesame, { requestId: asked.body.request.id })).map((e) => e.type);
    expect(types).not.toContain("grant.extended");
    // The revoke job is done (and removed) a moment after the grant reads "revoked".
    await waitFor(async () => !(await sesame.runtime.deps.jobs.hasRevokeJob(grantId)), "the revoke job to finish");
  });
});

describe("pending timeouts", () => {
  it("expires a request nobody decided once its pending timeout passes", async () => {
    const before = Date.now();
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "slow-db" });
    const after = Date.now();
    expect(created.status).toBe(201);
    // The policy's 2 s, counted from the moment of submission (somewhere between before and after).
    expect(ms(created.body.pendingUntil)).toBeGreaterThanOrEqual(before + 2_000);
    expect(ms(created.body.pendingUntil)).toBeLessThanOrEqual(after + 2_000);
    const expired = await waitForRequestStatus(sesame, "alice", created.body.id, "expired");
    expect(expired.decidedAt).not.toBeNull();
    const late = await sesame.api("carol", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/expired without a decision/);
  });

  it("still expires an overdue request after Redis lost its expiry job (sweeper)", async () => {
    // Ten minutes to its deadline: its expiry job cannot run before Redis loses it.
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "idle-db" });
    await sesame.flushRedis();
    expect(await sesame.runtime.queues.requests.getJob(jobId.expireRequest(created.body.id))).toBeUndefined();
    expect((await sesame.started.sweeper!.runOnce())?.requestsExpired).toBe(0);
    expect((await getRequest(sesame, "alice", created.body.id)).status).toBe("pending");

    // Past the deadline (Sesame's clock moved there), nothing in Redis expires it: the sweeper does.
    sesame.clock.travelTo(new Date(ms(created.body.pendingUntil) + 1_000));
    try {
      expect((await getRequest(sesame, "alice", created.body.id)).status).toBe("pending");
      const report = await sesame.started.sweeper!.runOnce();
      expect(report?.requestsExpired).toBe(1);
    } finally {
      sesame.clock.reset();
    }
    expect((await getRequest(sesame, "alice", created.body.id)).status).toBe("expired");
  });
});

describe("the sweeper finishes what a crash interrupted", () => {
  it("activates an approved grant whose activation job was never enqueued", async () => {
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db" });
    const approved = await decideRequest(depsThatLoseJobs(), {
      requestId: created.body.id,
      actorId: "carol",
      decision: "approve",
    });
    expect(approved.status).toBe("approved");
    const grantId = (await getRequest(sesame, "alice", created.body.id)).grant as string;
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("scheduled");

    // A young scheduled grant is left to its job; one stuck for minutes is re-queued.
    expect((await sesame.started.sweeper!.runOnce())?.activationsQueued).toBe(0);
    await backdate(grantId);
    expect((await sesame.started.sweeper!.runOnce())?.activationsQueued).toBe(1);
    await waitForGrantStatus(sesame, "alice", grantId, "active");
    // Scheduled just after the activation commits.
    await waitFor(() => sesame.runtime.deps.jobs.hasRevokeJob(grantId), "its revoke job");
  });

  it("finishes a relinquished grant whose revoke job was never enqueued", async () => {
    const { grantId } = await activeGrant(sesame, "bob", "carol", { resource: "app-db" });
    const revoking = await relinquishGrant(depsThatLoseJobs(), { grantId, actorId: "bob" });
    expect(revoking.status).toBe("revoking");
    expect((await sesame.started.sweeper!.runOnce())?.revokedOverdue).toBe(0);
    expect((await getGrant(sesame, "bob", grantId)).status).toBe("revoking");
    await backdate(grantId);
    expect((await sesame.started.sweeper!.runOnce())?.revokedOverdue).toBe(1);
    const revoked = await getGrant(sesame, "bob", grantId);
    expect(revoked).toMatchObject({ status: "revoked", revokedBy: "bob", revokeReason: "relinquished" });
  });
});

describe("API tokens", () => {
  it("refuses a revoked token with 401", async () => {
    expect((await sesame.api("erin", "GET", "/api/v1/requests")).status).toBe(200);
    expect(await revokeApiTokens(sesame.runtime.db, "erin")).toBe(1);
    // Looked-up tokens are trusted for SESAME_TOKEN_CACHE (10s by default): refused once that passed.
    sesame.clock.travelTo(new Date(sesame.clock.now().getTime() + 11_000));
    const refused = await sesame.api("erin", "GET", "/api/v1/requests");
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/unknown or revoked/);
    expect((await sesame.api("erin", "POST", "/api/v1/requests", { resource: "app-db" })).status).toBe(401);
    expect((await sesame.api("alice", "GET", "/api/v1/requests")).status).toBe(200);
    sesame.clock.reset();
  });
});

describe("audit", () => {
  it("keeps an intact hash chain of the whole lifecycle", async () => {
    await expectIntactAuditChain(sesame, 30);
  });
});
