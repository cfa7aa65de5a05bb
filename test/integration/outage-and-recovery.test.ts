import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NoopConnector } from "../../src/connectors/noop/noop-connector.js";
import { waitUntilReady } from "../../src/jobs/queues.js";
import { decideRequest } from "../../src/services/decide-request.js";
import type { ServiceDeps } from "../../src/services/deps.js";
import { performRevoke } from "../../src/services/revoke-grant.js";
import { sweep } from "../../src/services/sweep.js";
import { type PrivateRedis, startPrivateRedis } from "../helpers/private-redis.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { activeGrant, auditEvents, getGrant, requestAndApprove, waitForGrantStatus } from "./support.js";

/**
 * What happens when parts of the system fail: Redis goes down, an activation half-happens, a
 * failed grant cannot be cleaned up at once, a revoke keeps failing with its job lost. In each
 * case access must end, and a person must be told when it cannot.
 */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
connectors:
  ok: { type: noop }
  broken-grant-flaky-undo: { type: noop, config: { failGrant: true, failRevoke: 1 } }
  broken-revoke: { type: noop, config: { failRevoke: true } }
resources:
  app-db: { connector: ok, target: { role: app } }
  broken-db: { connector: broken-grant-flaky-undo, target: { role: app } }
  sticky-db: { connector: broken-revoke, target: { role: app } }
policies:
  - id: app
    resources: [app-db, broken-db, sticky-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 2h }
    reason: { required: false }
    approvers: { users: [bob] }
`;

let redis: PrivateRedis;
let sesame: TestSesame;
const later = (deps: ServiceDeps, minutes: number): ServiceDeps => ({
  ...deps,
  now: () => new Date(Date.now() + minutes * 60_000),
});
/** Brings the private Redis back and waits until Sesame's producer connection is back on it. */
async function restartRedis(): Promise<void> {
  await redis.start();
  await waitUntilReady(sesame.runtime.queues.connection, 15_000);
}
const noop = (name: string) => sesame.runtime.connectors.get(name) as unknown as NoopConnector;

beforeAll(async () => {
  redis = await startPrivateRedis();
  sesame = await startSesame("outage", { policy, identities: ["alice", "bob"], env: { REDIS_URL: redis.url } });
});
afterAll(async () => {
  await redis?.start().catch(() => undefined);
  await sesame?.stop();
  await redis?.stop();
});

describe("Redis down", () => {
  it("keeps answering the API and still revokes expired grants from the database", async () => {
    // An hour-long grant, so BullMQ's own revoke job cannot beat the outage to it; the sweeps below
    // run on a clock moved past its expiry instead of waiting for it.
    const { grantId } = await activeGrant(sesame, "alice", "bob", { resource: "app-db" });
    await redis.stop();

    // A hung API would fail this test at its timeout: producers fail fast while Redis is down
    // (queues.ts), and every scheduler call is bounded besides (bullmq-scheduler.ts).
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db" });
    expect(created.status).toBe(201);
    const approved = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(approved.body.status).toBe("approved");

    // The activation could not be queued while Redis was down, so the approval granted it inline.
    expect((await getGrant(sesame, "alice", approved.body.grant)).status).toBe("active");
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("active");

    const report = await sweep(later(sesame.runtime.deps, 61));
    expect(report.revokedOverdue).toBeGreaterThanOrEqual(1);
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("revoked");
    expect(noop("ok").activeGrantIds()).not.toContain(grantId);
    await restartRedis();
  });
});

describe("half-finished work", () => {
  it("asks the connector to take back a scheduled grant that is revoked, in case an activation reached the target", async () => {
    // The activation job was accepted and then lost (Redis flushed right after), so the grant stays scheduled.
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db" });
    const lostJobs = { ...sesame.runtime.deps.jobs, enqueueActivation: async () => undefined };
    const approved = await decideRequest(
      { ...sesame.runtime.deps, jobs: lostJobs },
      { requestId: created.body.id, actorId: "bob", decision: "approve" },
    );
    const grantId = approved.grantId!;
    await redis.stop();
    // An activation that reached the target but whose transaction never committed.
    await noop("ok").grant({
      grantId,
      principal: "alice",
      target: { role: "app" },
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("scheduled");

    // Redis is down, so the revoke cannot be queued: it runs inline, right after the relinquish commits.
    const relinquished = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
    expect(relinquished.body.status).toBe("revoking");
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("revoked");
    expect((await performRevoke(sesame.runtime.deps, grantId, { finalAttempt: false })).kind).toBe("skipped");
    expect(noop("ok").activeGrantIds()).not.toContain(grantId);
    await restartRedis();
  });

  it("keeps cleaning up after a failed grant until the target confirms", async () => {
    const { grantId } = await requestAndApprove(sesame, "alice", "bob", { resource: "broken-db" });
    // The clean-up runs after the failure commits; wait for its first (failing) attempt too.
    const failed = await waitForGrantStatus(sesame, "alice", grantId, "grant_failed", undefined, (grant) =>
      /cleanup after the failed grant/.test(grant.lastError ?? ""),
    );
    expect(failed.revokedAt).toBeNull();
    expect((await auditEvents(sesame, { grantId })).map((e) => e.type)).not.toContain("grant.failed_cleanup");

    const report = await sweep(later(sesame.runtime.deps, 10));
    expect(report.failedGrantsCleaned).toBe(1);
    expect((await getGrant(sesame, "alice", grantId)).revokedAt).not.toBeNull();
    expect((await auditEvents(sesame, { grantId })).map((e) => e.type)).toContain("grant.failed_cleanup");
    expect((await sweep(later(sesame.runtime.deps, 20))).failedGrantsCleaned).toBe(0);
  });

  it("pages when a revoke driven only by the sweeper keeps failing", async () => {
    // Hour-long, with its revoke job lost: only sweeps on a clock past its expiry can revoke it.
    const { grantId } = await activeGrant(sesame, "alice", "bob", { resource: "sticky-db" });
    await sesame.flushRedis();
    expect(await sesame.runtime.deps.jobs.hasRevokeJob(grantId)).toBe(false);
    for (
      let round = 0;
      round < 15 && (await getGrant(sesame, "alice", grantId)).status !== "revoke_failed";
      round += 1
    ) {
      await sweep(later(sesame.runtime.deps, 61));
    }
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("revoke_failed");
    const alerts = (await auditEvents(sesame, { grantId })).filter((e) => e.type === "grant.revoke_failed");
    expect(alerts).toHaveLength(1);
  });
});
