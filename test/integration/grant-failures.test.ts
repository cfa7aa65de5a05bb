import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NoopConnector } from "../../src/connectors/noop/noop-connector.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { waitFor } from "../helpers/wait.js";
import {
  activeGrant,
  auditEvents,
  expectIntactAuditChain,
  getGrant,
  getRequest,
  requestAndApprove,
  waitForGrantStatus,
} from "./support.js";

/**
 * What an SRE sees when the target system misbehaves: connector grants and revokes that fail,
 * through the REST API, with the noop connector's failure switches. The harness retries jobs
 * 3 times with a 100 ms backoff. Each behaviour has its own connector: a noop connector counts
 * its failures across every grant that uses it.
 */

const ENCRYPTION_KEY = Buffer.alloc(32, 3).toString("base64");

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
  - { id: dave, email: dave@example.com, admin: true }
connectors:
  broken-grant: { type: noop, config: { failGrant: true } }
  flaky-grant: { type: noop, config: { failGrant: 2 } }
  flaky-revoke: { type: noop, config: { failRevoke: 2 } }
  broken-revoke: { type: noop, config: { failRevoke: true } }
  flaky-expiry: { type: noop, config: { failRevoke: 1 } }
  broken-expiry: { type: noop, config: { failRevoke: true } }
  recovering-expiry: { type: noop, config: { failRevoke: 3 } }
resources:
  broken-grant-db: { connector: broken-grant, target: { role: readonly } }
  flaky-grant-db: { connector: flaky-grant, target: { role: readonly } }
  flaky-revoke-db: { connector: flaky-revoke, target: { role: readonly } }
  broken-revoke-db: { connector: broken-revoke, target: { role: readonly } }
  flaky-expiry-db: { connector: flaky-expiry, target: { role: readonly } }
  broken-expiry-db: { connector: broken-expiry, target: { role: readonly } }
  recovering-expiry-db: { connector: recovering-expiry, target: { role: readonly } }
policies:
  - id: everything
    resources: [broken-grant-db, flaky-grant-db, flaky-revoke-db, broken-revoke-db, flaky-expiry-db, broken-expiry-db, recovering-expiry-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 4h }
    approvers: { users: [bob] }
`;

let sesame: TestSesame;
const noop = (name: string) => sesame.runtime.connectors.get(name) as NoopConnector;
const callsOf = (name: string, grantId: string, operation: "grant" | "revoke") =>
  noop(name).calls.filter((c) => c.grantId === grantId && c.operation === operation);

/** Nothing secret may end up in an error text: no API token, no encryption key, no stack trace. */
function expectNoSecret(text: string): void {
  for (const token of Object.values(sesame.tokens)) expect(text).not.toContain(token);
  expect(text).not.toContain(ENCRYPTION_KEY);
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).not.toMatch(/undefined|\[object Object\]/);
}

/** Makes a grant look untouched for ten minutes, the age at which the sweeper retries a failed revoke. */
async function backdate(grantId: string): Promise<void> {
  await sesame.runtime.db
    .$executeRaw`UPDATE "Grant" SET "updatedAt" = now() - interval '10 minutes' WHERE id = ${grantId}`;
}

beforeAll(async () => {
  sesame = await startSesame("int_grant_failures", { policy, identities: ["alice", "bob", "dave"] });
});

afterAll(async () => {
  await sesame?.stop();
});

describe("connector grant failures", () => {
  it("marks a grant that fails every attempt grant_failed, with a readable error and an alert", async () => {
    const { requestId, grantId } = await requestAndApprove(sesame, "alice", "bob", { resource: "broken-grant-db" });
    const grant = await waitForGrantStatus(sesame, "alice", grantId, "grant_failed");

    expect(grant.activatedAt).toBeNull();
    expect(grant.attempts).toBe(3);
    expect(grant.lastError).toMatch(/Connector "broken-grant" \(noop\) was configured to fail grants/);
    expectNoSecret(grant.lastError);
    expect(callsOf("broken-grant", grantId, "grant")).toHaveLength(3);
    // The request itself stays approved: the decision was right, the target failed.
    expect((await getRequest(sesame, "alice", requestId)).status).toBe("approved");

    const events = await auditEvents(sesame, { grantId });
    const failed = events.filter((e) => e.type === "grant.failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data).toMatchObject({ alert: true, attempts: 3, error: grant.lastError });
    expect(events.map((e) => e.type)).not.toContain("grant.activated");
    for (const event of events) expectNoSecret(JSON.stringify(event.data));
  });

  it("undoes whatever a failed grant may have left behind", async () => {
    const [failed] = (await sesame.api("dave", "GET", "/api/v1/grants?status=grant_failed")).body.grants;
    expect(failed).toBeDefined();
    // The best-effort cleanup runs after the failure is recorded, so it may trail it a little.
    await expect
      .poll(async () => (await auditEvents(sesame, { grantId: failed.id })).map((e) => e.type), { timeout: 10_000 })
      .toContain("grant.failed_cleanup");
    expect(noop("broken-grant").activeGrantIds()).not.toContain(failed.id);
  });

  it("activates a grant whose first two attempts fail, recording the attempts", async () => {
    const { grantId } = await requestAndApprove(sesame, "alice", "bob", { resource: "flaky-grant-db", duration: "2h" });
    const grant = await waitForGrantStatus(sesame, "alice", grantId, "active");

    expect(grant.attempts).toBe(3);
    expect(grant.lastError).toBeNull();
    expect(grant.activatedAt).not.toBeNull();
    expect(new Date(grant.expiresAt).getTime() - new Date(grant.activatedAt).getTime()).toBe(2 * 3600 * 1000);
    expect(callsOf("flaky-grant", grantId, "grant")).toHaveLength(3);
    expect(noop("flaky-grant").activeGrantIds()).toContain(grantId);

    const types = (await auditEvents(sesame, { grantId })).map((e) => e.type);
    expect(types).toContain("grant.activated");
    expect(types).not.toContain("grant.failed");
    // Scheduled just after the activation commits.
    await waitFor(() => sesame.runtime.deps.jobs.hasRevokeJob(grantId), "its revoke job");
  });
});

describe("connector revoke failures", () => {
  it("revokes a grant whose first two revoke attempts fail", async () => {
    const { grantId } = await activeGrant(sesame, "alice", "bob", { resource: "flaky-revoke-db" });
    const relinquished = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
    expect(relinquished.status).toBe(200);
    expect(relinquished.body.status).toBe("revoking");

    const grant = await waitForGrantStatus(sesame, "alice", grantId, "revoked");
    expect(grant.lastError).toBeNull();
    expect(grant.revokedAt).not.toBeNull();
    expect(grant.revokedBy).toBe("alice");
    // One successful grant, then two failed revokes and the one that worked.
    expect(grant.attempts).toBe(4);
    expect(callsOf("flaky-revoke", grantId, "revoke")).toHaveLength(3);
    expect(noop("flaky-revoke").activeGrantIds()).not.toContain(grantId);
    const types = (await auditEvents(sesame, { grantId })).map((e) => e.type);
    expect(types).toContain("grant.revoked");
    expect(types).not.toContain("grant.revoke_failed");
  });

  it("marks a grant whose revoke always fails revoke_failed, pages, and lists it for admins", async () => {
    const { grantId } = await activeGrant(sesame, "alice", "bob", { resource: "broken-revoke-db" });
    expect((await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`)).status).toBe(200);

    const grant = await waitForGrantStatus(sesame, "alice", grantId, "revoke_failed");
    expect(grant.lastError).toMatch(/Connector "broken-revoke" \(noop\) was configured to fail revokes/);
    expectNoSecret(grant.lastError);
    expect(grant.revokedAt).toBeNull();
    expect(callsOf("broken-revoke", grantId, "revoke")).toHaveLength(3);
    // The access is still there, and Sesame says so instead of pretending.
    expect(noop("broken-revoke").activeGrantIds()).toContain(grantId);

    const failed = (await auditEvents(sesame, { grantId })).filter((e) => e.type === "grant.revoke_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data).toMatchObject({ alert: true, error: grant.lastError });

    const adminList = await sesame.api("dave", "GET", "/api/v1/grants?status=revoke_failed");
    expect(adminList.status).toBe(200);
    expect(adminList.body.grants.map((g: { id: string }) => g.id)).toEqual([grantId]);
    expect(adminList.body.grants[0]).toMatchObject({
      subject: "alice",
      resource: "broken-revoke-db",
      status: "revoke_failed",
    });
    // bob holds no grant: his own list is empty, and he may not look at alice's.
    expect((await sesame.api("bob", "GET", "/api/v1/grants?status=revoke_failed")).body.grants).toEqual([]);
    expect((await sesame.api("bob", "GET", "/api/v1/grants?subject=alice")).status).toBe(403);
  });

  it("lets an admin retry a failed revoke; it fails again and is still visible", async () => {
    const [stuck] = (await sesame.api("dave", "GET", "/api/v1/grants?status=revoke_failed")).body.grants;
    const callsBefore = callsOf("broken-revoke", stuck.id, "revoke").length;
    const retried = await sesame.api("dave", "POST", `/api/v1/grants/${stuck.id}/revoke`, {
      reason: "retry after fixing the target",
    });
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe("revoking");

    await waitForGrantStatus(sesame, "dave", stuck.id, "revoke_failed");
    expect(callsOf("broken-revoke", stuck.id, "revoke").length).toBe(callsBefore + 3);
    const failures = (await auditEvents(sesame, { grantId: stuck.id })).filter((e) => e.type === "grant.revoke_failed");
    expect(failures).toHaveLength(2);
  });
});

// Two-second grants, revoked at expiry by BullMQ's delayed jobs for real. The tests wait for the
// end state only: checking that a grant was active in between would race its two seconds.
describe("revoke failures at expiry", () => {
  it("revokes an expired grant once the connector recovers", async () => {
    const { grantId } = await requestAndApprove(sesame, "alice", "bob", {
      resource: "flaky-expiry-db",
      duration: "2s",
    });
    const grant = await waitForGrantStatus(sesame, "alice", grantId, "revoked");
    expect(grant).toMatchObject({ revokeReason: "expired", revokedBy: null, lastError: null });
    expect(new Date(grant.revokedAt).getTime()).toBeGreaterThanOrEqual(new Date(grant.expiresAt).getTime());
    expect(callsOf("flaky-expiry", grantId, "revoke")).toHaveLength(2);
    expect(noop("flaky-expiry").activeGrantIds()).not.toContain(grantId);
  });

  it("never leaves an expired grant looking active when its revoke keeps failing", async () => {
    const { grantId } = await requestAndApprove(sesame, "alice", "bob", {
      resource: "broken-expiry-db",
      duration: "2s",
    });
    const grant = await waitForGrantStatus(sesame, "alice", grantId, "revoke_failed");
    expect(grant.lastError).toMatch(/configured to fail revokes/);
    expect(grant.revokeReason).toBe("expired");
    expect(callsOf("broken-expiry", grantId, "revoke")).toHaveLength(3);
    const failed = (await auditEvents(sesame, { grantId })).filter((e) => e.type === "grant.revoke_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data).toMatchObject({ alert: true });
    const listed = (await sesame.api("dave", "GET", "/api/v1/grants?status=revoke_failed")).body.grants.map(
      (g: { id: string }) => g.id,
    );
    expect(listed).toContain(grantId);
  });
});

describe("the sweeper and failed revokes", () => {
  it("retries a failed revoke a few minutes later without paging again, and finishes it once the target recovers", async () => {
    const { grantId } = await requestAndApprove(sesame, "alice", "bob", {
      resource: "recovering-expiry-db",
      duration: "2s",
    });
    const failed = await waitForGrantStatus(sesame, "alice", grantId, "revoke_failed");
    expect(callsOf("recovering-expiry", grantId, "revoke")).toHaveLength(3);

    // Too recent: the sweeper leaves it alone.
    expect((await sesame.started.sweeper!.runOnce())?.revokesRetried).toBe(0);
    await backdate(grantId);
    const report = await sesame.started.sweeper!.runOnce();
    expect(report?.revokesRetried).toBe(1);
    const grant = await getGrant(sesame, "alice", grantId);
    expect(grant).toMatchObject({ status: "revoked", revokeReason: "expired", lastError: null });
    expect(grant.attempts).toBe(failed.attempts + 1);
    const events = await auditEvents(sesame, { grantId });
    expect(events.filter((e) => e.type === "grant.revoke_failed")).toHaveLength(1);
    expect(events.find((e) => e.type === "grant.revoked")?.data).toMatchObject({ reason: "expired" });
  });

  it("keeps a revoke that still fails in revoke_failed, with no second alert", async () => {
    const [stuck] = (await sesame.api("dave", "GET", "/api/v1/grants?status=revoke_failed&resource=broken-expiry-db"))
      .body.grants;
    await backdate(stuck.id);
    expect((await sesame.started.sweeper!.runOnce())?.revokesRetried).toBe(1);
    const grant = await getGrant(sesame, "dave", stuck.id);
    expect(grant).toMatchObject({ status: "revoke_failed", revokeReason: "expired" });
    expect(grant.attempts).toBe(stuck.attempts + 1);
    expect(
      (await auditEvents(sesame, { grantId: stuck.id })).filter((e) => e.type === "grant.revoke_failed"),
    ).toHaveLength(1);
  });
});

describe("audit", () => {
  it("keeps an intact hash chain through all those failures", async () => {
    await expectIntactAuditChain(sesame, 20);
  });
});
