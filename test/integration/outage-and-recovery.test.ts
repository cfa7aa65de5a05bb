import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NoopConnector } from "../../src/connectors/noop/noop-connector.js";
import { waitUntilReady } from "../../src/jobs/queues.js";
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
    const { grantId } = await activeGrant(sesame, "alice", "bob", { resource: "app-db", duration: "2s" });
    await redis.stop();

    const started = Date.now();
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db" });
    expect(created.status).toBe(201);
    const approved = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(approved.body.status).toBe("approved");
    expect(Date.now() - started).toBeLessThan(8_000);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 2_100 - (Date.now() - started))));
    const report = await sweep(sesame.runtime.deps);
    expect(report.revokedOverdue).toBeGreaterThanOrEqual(1);
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("revoked");
    expect(noop("ok").activeGrantIds()).not.toContain(grantId);

    // The approval queued nothing while Redis was down; the sweeper grants it inline.
    await sweep(later(sesame.runtime.deps, 2));
    expect((await getGrant(sesame, "alice", approved.body.grant)).status).toBe("active");
    await restartRedis();
  });
});

describe("half-finished work", () => {
  it("asks the connector to take back a scheduled grant that is revoked, in case an activation reached the target", async () => {
    await redis.stop();
    const { grantId } = await requestAndApprove(sesame, "alice", "bob", { resource: "app-db" });
    // An activation that reached the target but whose transaction never committed.
    await noop("ok").grant({
      grantId,
      principal: "alice",
      target: { role: "app" },
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("scheduled");

    const relinquished = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
    expect(relinquished.body.status).toBe("revoking");
    await performRevoke(sesame.runtime.deps, grantId, { finalAttempt: false });
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("revoked");
    expect(noop("ok").activeGrantIds()).not.toContain(grantId);
    await restartRedis();
  });

  it("keeps cleaning up after a failed grant until the target confirms", async () => {
    const { grantId } = await requestAndApprove(sesame, "alice", "bob", { resource: "broken-db" });
    const failed = await waitForGrantStatus(sesame, "alice", grantId, "grant_failed");
    expect(failed.lastError).toMatch(/cleanup after the failed grant/);
    expect(failed.revokedAt).toBeNull();
    expect((await auditEvents(sesame, { grantId })).map((e) => e.type)).not.toContain("grant.failed_cleanup");

    const report = await sweep(later(sesame.runtime.deps, 10));
    expect(report.failedGrantsCleaned).toBe(1);
    expect((await getGrant(sesame, "alice", grantId)).revokedAt).not.toBeNull();
    expect((await auditEvents(sesame, { grantId })).map((e) => e.type)).toContain("grant.failed_cleanup");
    expect((await sweep(later(sesame.runtime.deps, 20))).failedGrantsCleaned).toBe(0);
  });

  it("pages when a revoke driven only by the sweeper keeps failing", async () => {
    const { grantId } = await activeGrant(sesame, "alice", "bob", { resource: "sticky-db", duration: "1s" });
    await sesame.flushRedis();
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    for (
      let round = 0;
      round < 15 && (await getGrant(sesame, "alice", grantId)).status !== "revoke_failed";
      round += 1
    ) {
      await sweep(sesame.runtime.deps);
    }
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("revoke_failed");
    const alerts = (await auditEvents(sesame, { grantId })).filter((e) => e.type === "grant.revoke_failed");
    expect(alerts).toHaveLength(1);
  });
});
