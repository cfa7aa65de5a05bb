import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSesame, type TestSesame } from "../helpers/sesame.js";

/** The API at its edges: late clicks, strangers, unstorable text, absurd numbers, short pages. */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
  - { id: carol, email: carol@example.com }
  - { id: erin, email: erin@example.com }
  - { id: mallory, email: mallory@example.com }
connectors:
  ok: { type: noop }
resources:
  app-db: { connector: ok, target: { role: app } }
  slow-db: { connector: ok, target: { role: slow } }
policies:
  - id: app
    resources: [app-db]
    requesters: { users: [alice, erin] }
    duration: { default: 1h, max: 2h }
    reason: { required: false }
    approvers: { users: [bob, carol] }
    requiredApprovals: 2
  - id: slow
    resources: [slow-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 2h }
    reason: { required: false }
    approvers: { users: [bob] }
    pendingTimeout: 10m
`;

let sesame: TestSesame;
beforeAll(async () => {
  sesame = await startSesame("edges", { policy, identities: ["alice", "bob", "carol", "erin", "mallory"] });
});
afterAll(() => sesame?.stop());

describe("API edges", () => {
  it("refuses a decision on a request past its pending deadline, even if its expiry job was lost", async () => {
    // Ten minutes to its deadline, so its expiry job cannot run before Redis loses it; then Sesame's
    // clock is moved past the deadline instead of anyone waiting for it.
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "slow-db" });
    await sesame.flushRedis();
    sesame.clock.travelTo(new Date(new Date(created.body.pendingUntil).getTime() + 1_000));
    try {
      const late = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
      expect(late.status).toBe(409);
      expect(late.body.error.message).toMatch(/expired at .* without a decision/);
    } finally {
      sesame.clock.reset();
    }
    expect((await sesame.api("alice", "GET", `/api/v1/requests/${created.body.id}`)).body.grant).toBeNull();
  });

  it("tells a stranger only that they are not an approver, not how the request ended", async () => {
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db" });
    await sesame.api("alice", "POST", `/api/v1/requests/${created.body.id}/cancel`);
    const stranger = await sesame.api("mallory", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(stranger.status).toBe(403);
    expect(stranger.body.error.message).toMatch(/not an approver/);
    expect(JSON.stringify(stranger.body)).not.toMatch(/cancel/);
  });

  it("answers 409, not 500, when an approver who approved tries to deny", async () => {
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db" });
    await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    const deny = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/deny`, { reason: "oops" });
    expect(deny.status).toBe(409);
    await sesame.api("alice", "POST", `/api/v1/requests/${created.body.id}/cancel`);
  });

  it("refuses text PostgreSQL cannot store, naming the field, instead of failing with 500", async () => {
    const nul = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db", reason: "a\u0000b" });
    expect(nul.status).toBe(400);
    expect(nul.body.error.fields[0].field).toBe("body.reason");
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db" });
    const surrogate = await fetch(`${sesame.baseUrl}/api/v1/requests/${created.body.id}/deny`, {
      method: "POST",
      headers: { authorization: `Bearer ${sesame.tokens.bob}`, "content-type": "application/json" },
      body: '{"reason":"\\ud800"}',
    });
    expect(surrogate.status).toBe(400);
    const query = await sesame.api("alice", "GET", "/api/v1/requests?requester=a%00b");
    expect(query.status).toBe(400);
    await sesame.api("alice", "POST", `/api/v1/requests/${created.body.id}/cancel`);
  });

  it("refuses absurd durations with a message, not a 500", async () => {
    const huge = await sesame.api("alice", "POST", "/api/v1/requests", {
      resource: "app-db",
      duration: 9007199254740991,
    });
    expect(huge.status).toBe(400);
    const hugeText = await sesame.api("alice", "POST", "/api/v1/requests", {
      resource: "app-db",
      duration: "99999999d",
    });
    expect(hugeText.status).toBe(400);
  });

  it("fills a short page with requests the caller can see", async () => {
    const mine = await sesame.api("erin", "POST", "/api/v1/requests", { resource: "app-db" });
    for (let i = 0; i < 3; i += 1) await sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db" });
    const page = await sesame.api("erin", "GET", "/api/v1/requests?limit=1");
    expect(page.body.requests.map((r: { id: string }) => r.id)).toEqual([mine.body.id]);
  });

  it("lists what waits for the caller's decision, and nothing to a stranger", async () => {
    const created = await sesame.api("erin", "POST", "/api/v1/requests", { resource: "app-db" });
    const waiting = async (who: string) =>
      (await sesame.api(who, "GET", "/api/v1/requests?awaitingMe=true&limit=100")).body.requests.map(
        (r: { id: string }) => r.id,
      );
    expect(await waiting("carol")).toContain(created.body.id);
    await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    await sesame.api("carol", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(await waiting("carol")).not.toContain(created.body.id);
    expect((await sesame.api("mallory", "GET", "/api/v1/requests?limit=100")).body.requests).toEqual([]);
  });
});
