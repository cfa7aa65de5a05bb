import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { purgeEndedRecords } from "../../src/services/purge-ended-records.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { waitFor } from "../helpers/wait.js";

/**
 * SESAME_RETENTION: what ended for good long enough ago is deleted, what can still change is kept
 * whatever its age, and the audit log keeps every event of what was deleted.
 */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
connectors:
  ok: { type: noop }
resources:
  app-db: { connector: ok, target: { role: app } }
policies:
  - id: app
    resources: [app-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 400d }
    reason: { required: false }
    approvers: { users: [bob] }
    pendingTimeout: 30d
    breakGlass: { maxDuration: 30m }
`;

const DAY = 86_400;
let sesame: TestSesame;
beforeAll(async () => {
  sesame = await startSesame("retention", { policy, identities: ["alice", "bob"] });
});
afterAll(() => sesame?.stop());

async function grantStatus(id: string): Promise<string> {
  return (await sesame.api("alice", "GET", `/api/v1/grants/${id}`)).body.status;
}

describe("retention of ended requests and grants", () => {
  it("deletes what ended before the retention, keeps what can still change, and audits the purge", async () => {
    const submit = (duration = "1h") =>
      sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db", duration });
    const cancelled = (await submit()).body.id;
    await sesame.api("alice", "POST", `/api/v1/requests/${cancelled}/cancel`);
    const relinquished = (await submit()).body.id;
    const relinquishedGrant = (await sesame.api("bob", "POST", `/api/v1/requests/${relinquished}/approve`, {})).body
      .grant;
    await waitFor(async () => (await grantStatus(relinquishedGrant)) === "active", "the grant to be active");
    await sesame.api("alice", "POST", `/api/v1/grants/${relinquishedGrant}/relinquish`);
    await waitFor(async () => (await grantStatus(relinquishedGrant)) === "revoked", "the grant to be revoked");
    const pending = (await submit()).body.id;
    const longLived = (await submit("400d")).body.id;
    const longLivedGrant = (await sesame.api("bob", "POST", `/api/v1/requests/${longLived}/approve`, {})).body.grant;
    await waitFor(async () => (await grantStatus(longLivedGrant)) === "active", "the long grant to be active");

    const deps = sesame.runtime.deps;
    expect(await purgeEndedRecords(deps, 30 * DAY, async () => undefined)).toBe(0);
    // 31 days on: past the retention for what ended; the pending request is past its own
    // deadline but has not been expired yet, so it has not ended.
    sesame.clock.travelTo(new Date(Date.now() + 31 * DAY * 1000));
    try {
      expect(await purgeEndedRecords(deps, 30 * DAY, async () => undefined)).toBe(2);
    } finally {
      sesame.clock.reset();
    }
    const seen = async (id: string) => (await sesame.api("alice", "GET", `/api/v1/requests/${id}`)).status;
    expect(await seen(cancelled)).toBe(404);
    expect(await seen(relinquished)).toBe(404);
    expect((await sesame.api("alice", "GET", `/api/v1/grants/${relinquishedGrant}`)).status).toBe(404);
    expect(await seen(pending)).toBe(200);
    expect(await seen(longLived)).toBe(200);
    expect(await grantStatus(longLivedGrant)).toBe("active");

    const db = sesame.runtime.db;
    const purges = await db.auditEvent.findMany({ where: { type: "records.purged" } });
    expect(purges.map((event) => (event.data as { requests: number }).requests)).toEqual([2]);
    expect(await db.auditEvent.count({ where: { requestId: { in: [cancelled, relinquished] } } })).toBeGreaterThan(4);
  });

  it("keeps break-glass access nobody has reviewed, whatever its age, and deletes it once reviewed", async () => {
    const created = await sesame.api("alice", "POST", "/api/v1/requests", {
      resource: "app-db",
      duration: "20m",
      breakGlass: true,
      reason: "payments are down",
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const grant = (await sesame.api("alice", "GET", `/api/v1/requests/${id}`)).body.grant as string;
    await waitFor(async () => (await grantStatus(grant)) === "active", "the break-glass grant to be active");
    await sesame.api("alice", "POST", `/api/v1/grants/${grant}/relinquish`);
    await waitFor(async () => (await grantStatus(grant)) === "revoked", "the break-glass grant to be revoked");

    const purgeMonthLater = async () => {
      sesame.clock.travelTo(new Date(Date.now() + 31 * DAY * 1000));
      try {
        return await purgeEndedRecords(sesame.runtime.deps, 30 * DAY, async () => undefined);
      } finally {
        sesame.clock.reset();
      }
    };
    expect(await purgeMonthLater()).toBe(0);
    expect((await sesame.api("alice", "GET", `/api/v1/requests/${id}`)).status).toBe(200);
    expect((await sesame.api("bob", "POST", `/api/v1/requests/${id}/review`, {})).status).toBe(200);
    expect(await purgeMonthLater()).toBe(1);
    expect((await sesame.api("alice", "GET", `/api/v1/requests/${id}`)).status).toBe(404);
  });
});
