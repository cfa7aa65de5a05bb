import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyOnceChained } from "../helpers/audit-chain.js";
import { adminQuery, createTestDatabase } from "../helpers/database.js";
import { runRevokeAtExpiry, startSesame, type TestSesame } from "../helpers/sesame.js";
import { waitFor } from "../helpers/wait.js";

/**
 * End to end through the REST API against the real local PostgreSQL: a request is approved, the
 * requester can really log in to the target database, and cannot once the grant is revoked.
 */

const tag = `e2e_${randomBytes(3).toString("hex")}`;
const readonlyRole = `${tag}_readonly`;
const aliceRole = `${tag}_alice`;
let target: Awaited<ReturnType<typeof createTestDatabase>>;
let sesame: TestSesame;

const policy = () => `
version: 1
people:
  - { id: alice, email: alice@example.com, principals: { pg: ${aliceRole} } }
  - { id: bob, email: bob@example.com, principals: { pg: ${tag}_bob } }
  - { id: carol, email: carol@example.com }
  - { id: mallory, email: mallory@example.com }
  - { id: dave, email: dave@example.com, admin: true }
groups:
  dba: [bob, carol]
connectors:
  pg: { type: postgres, config: { url: { env: E2E_TARGET_URL } } }
  # A second connector to the same server: people's explicit principals above apply to pg only.
  pg-temp: { type: postgres, config: { url: { env: E2E_TARGET_URL } } }
resources:
  prod-db:
    connector: pg
    target: { role: ${readonlyRole} }
  # Same role, different revoke settings: the same access, so it overlaps with prod-db.
  prod-db-keep-sessions:
    connector: pg
    target: { mode: membership, role: ${readonlyRole}, terminateSessions: false }
  prod-db-temporary-login:
    connector: pg-temp
    target: { mode: login-role, memberOf: [${readonlyRole}] }
    principal: "${tag}_{{ id }}_tmp"
policies:
  - id: prod-db
    resources: [prod-db, prod-db-keep-sessions, prod-db-temporary-login]
    requesters: { users: [alice, bob] }
    duration: { default: 1h, max: 4h }
    reason: { required: true }
    approvers: { groups: [dba] }
    extension: { requiresApproval: true, maxTotal: 8h }
`;

async function canLogin(): Promise<boolean> {
  const url = new URL(target.url);
  url.username = aliceRole;
  const client = new pg.Client({ connectionString: url.toString() });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch (error) {
    if (/permission denied for database/.test((error as Error).message)) return false;
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function loginAs(user: string, password?: string): Promise<string> {
  const url = new URL(target.url);
  url.username = user;
  if (password) url.password = password;
  const client = new pg.Client({ connectionString: url.toString() });
  try {
    await client.connect();
    return (await client.query<{ current_user: string }>("SELECT current_user")).rows[0]!.current_user;
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function grantOf(grantId: string): Promise<any> {
  return (await sesame.api("alice", "GET", `/api/v1/grants/${grantId}`)).body;
}

async function approvedGrant(duration: string, resource = "prod-db"): Promise<{ requestId: string; grantId: string }> {
  const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource, duration, reason: "incident 42" });
  expect(created.status).toBe(201);
  const approved = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {
    version: created.body.version,
  });
  expect(approved.status).toBe(200);
  expect(approved.body.status).toBe("approved");
  const grantId = approved.body.grant as string;
  await waitFor(
    async () => (await sesame.api("alice", "GET", `/api/v1/grants/${grantId}`)).body.status === "active",
    "grant to become active",
  );
  // Activation schedules the revoke job just after it commits: wait for that too, so a test that
  // then flushes Redis does not race it.
  await waitFor(() => sesame.runtime.deps.jobs.hasRevokeJob(grantId), "its revoke job");
  return { requestId: created.body.id, grantId };
}

beforeAll(async () => {
  target = await createTestDatabase("e2e_target");
  await adminQuery(`CREATE ROLE "${readonlyRole}" NOLOGIN`);
  await adminQuery(`CREATE ROLE "${aliceRole}" LOGIN`);
  await adminQuery(`CREATE ROLE "${tag}_bob" LOGIN`);
  await adminQuery(`REVOKE CONNECT ON DATABASE "${target.name}" FROM PUBLIC`);
  await adminQuery(`GRANT CONNECT ON DATABASE "${target.name}" TO "${readonlyRole}"`);
  sesame = await startSesame("e2e", {
    policy: policy(),
    identities: ["alice", "bob", "carol", "mallory", "dave"],
    env: { E2E_TARGET_URL: target.url },
  });
});

afterAll(async () => {
  await sesame?.stop();
  await target?.drop();
  for (const role of [readonlyRole, aliceRole, `${tag}_bob`]) await adminQuery(`DROP ROLE IF EXISTS "${role}"`);
});

describe("request → approve → grant → revoke, through the API", () => {
  it("lets the requester log in only while the grant is live, then revokes it at expiry", async () => {
    expect(await canLogin()).toBe(false);
    // An hour-long grant: "live" is not a race against a few seconds of wall clock. Its expiry is
    // then brought forward (Sesame's clock moved past it, its revoke job run as BullMQ would then).
    const { grantId } = await approvedGrant("1h");
    expect(await canLogin()).toBe(true);
    await runRevokeAtExpiry(sesame, grantId);
    const revoked = (await sesame.api("alice", "GET", `/api/v1/grants/${grantId}`)).body;
    expect(revoked).toMatchObject({ status: "revoked", revokeReason: "expired" });
    expect(await canLogin()).toBe(false);
  });

  it("still revokes when Redis lost every job while the grant was live (sweeper)", async () => {
    const { grantId } = await approvedGrant("1h");
    await sesame.flushRedis();
    expect(await sesame.runtime.deps.jobs.hasRevokeJob(grantId)).toBe(false);
    // Past its expiry (Sesame's clock moved there) with no job left, nothing has taken the access away...
    sesame.clock.travelTo(new Date(new Date((await grantOf(grantId)).expiresAt).getTime() + 1_000));
    try {
      expect(await canLogin()).toBe(true);
      // ...until the sweeper runs.
      const report = await sesame.started.sweeper!.runOnce();
      expect(report?.revokedOverdue).toBe(1);
    } finally {
      sesame.clock.reset();
    }
    expect((await grantOf(grantId)).status).toBe("revoked");
    expect(await canLogin()).toBe(false);
  });

  it("re-creates a revoke job Redis lost for a grant that is not due yet", async () => {
    const { grantId } = await approvedGrant("1h");
    await sesame.flushRedis();
    const report = await sesame.started.sweeper!.runOnce();
    expect(report?.revokeJobsRestored).toBeGreaterThanOrEqual(1);
    expect(await sesame.runtime.deps.jobs.hasRevokeJob(grantId)).toBe(true);
    const relinquished = await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
    expect(relinquished.body.status).toBe("revoking");
    await waitFor(
      async () => (await sesame.api("alice", "GET", `/api/v1/grants/${grantId}`)).body.status === "revoked",
      "relinquish",
    );
    expect(await canLogin()).toBe(false);
  });

  it("treats two resources granting the same role as the same access", async () => {
    const viaMain = await approvedGrant("1h");
    const viaAlias = await approvedGrant("1h", "prod-db-keep-sessions");
    await sesame.api("alice", "POST", `/api/v1/grants/${viaAlias.grantId}/relinquish`);
    await waitFor(
      async () => (await sesame.api("alice", "GET", `/api/v1/grants/${viaAlias.grantId}`)).body.status === "revoked",
      "alias revoke",
    );
    expect(await canLogin()).toBe(true);
    await sesame.api("alice", "POST", `/api/v1/grants/${viaMain.grantId}/relinquish`);
    await waitFor(
      async () => (await sesame.api("alice", "GET", `/api/v1/grants/${viaMain.grantId}`)).body.status === "revoked",
      "main revoke",
    );
    expect(await canLogin()).toBe(false);
  });

  it("keeps access while an overlapping grant of the same role is still live", async () => {
    const first = await approvedGrant("1h");
    const second = await approvedGrant("1h");
    await sesame.api("alice", "POST", `/api/v1/grants/${first.grantId}/relinquish`);
    await waitFor(
      async () => (await sesame.api("alice", "GET", `/api/v1/grants/${first.grantId}`)).body.status === "revoked",
      "first revoke",
    );
    expect(await canLogin()).toBe(true);
    const revoked = await sesame.api("dave", "POST", `/api/v1/grants/${second.grantId}/revoke`, { reason: "done" });
    expect(revoked.status).toBe(200);
    await waitFor(
      async () => (await sesame.api("alice", "GET", `/api/v1/grants/${second.grantId}`)).body.status === "revoked",
      "second revoke",
    );
    expect(await canLogin()).toBe(false);
  });
});

describe("temporary login roles", () => {
  it("creates a login role for the grant, hands its password to the holder only, and drops it on revoke", async () => {
    const role = `${tag}_alice_tmp`;
    expect(await loginAs(role)).toMatch(/refused: .*role .* does not exist/);
    const { grantId } = await approvedGrant("1h", "prod-db-temporary-login");
    const credentials = await sesame.api("alice", "GET", `/api/v1/grants/${grantId}/credentials`);
    expect(credentials.status).toBe(200);
    expect(credentials.body.credentials.password.length).toBeGreaterThanOrEqual(24);
    expect(await loginAs(role, credentials.body.credentials.password)).toBe(role);
    expect((await sesame.api("bob", "GET", `/api/v1/grants/${grantId}/credentials`)).status).toBe(404);
    const grant = await sesame.api("alice", "GET", `/api/v1/grants/${grantId}`);
    expect(JSON.stringify(grant.body)).not.toContain(credentials.body.credentials.password);

    await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
    await waitFor(
      async () => (await sesame.api("alice", "GET", `/api/v1/grants/${grantId}`)).body.status === "revoked",
      "login role revoke",
    );
    expect(await loginAs(role, credentials.body.credentials.password)).toMatch(/refused: .*role .* does not exist/);
    expect((await sesame.api("alice", "GET", `/api/v1/grants/${grantId}/credentials`)).status).toBe(409);
  });
});

describe("decisions", () => {
  it("applies exactly one of two concurrent decisions; the other is told it was already decided", async () => {
    const created = await sesame.api("alice", "POST", "/api/v1/requests", {
      resource: "prod-db",
      duration: "1h",
      reason: "race",
    });
    const [approve, deny] = await Promise.all([
      sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, { version: created.body.version }),
      sesame.api("carol", "POST", `/api/v1/requests/${created.body.id}/deny`, {
        version: created.body.version,
        reason: "no",
      }),
    ]);
    const statuses = [approve.status, deny.status].sort();
    expect(statuses).toEqual([200, 409]);
    const loser = approve.status === 409 ? approve : deny;
    expect(loser.body.error.message).toMatch(/already (approved|denied) by (bob|carol)/);
    const final = await sesame.api("alice", "GET", `/api/v1/requests/${created.body.id}`);
    expect(final.body.decisions).toHaveLength(1);
    if (final.body.grant) await sesame.api("dave", "POST", `/api/v1/grants/${final.body.grant}/revoke`, {});
  });

  it("refuses self-approval even when the requester is an approver", async () => {
    const created = await sesame.api("bob", "POST", "/api/v1/requests", { resource: "prod-db", reason: "mine" });
    expect(created.status).toBe(201);
    const self = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(self.status).toBe(403);
    expect(self.body.error.message).toMatch(/cannot approve or deny your own request/);
    expect((await sesame.api("bob", "GET", `/api/v1/requests/${created.body.id}`)).body.status).toBe("pending");
  });

  it("refuses a decision from someone who is not an approver", async () => {
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "prod-db", reason: "x" });
    const attempt = await sesame.api("mallory", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(attempt.status).toBe(403);
    expect(attempt.body.error.message).toMatch(/not an approver/);
    await sesame.api("alice", "POST", `/api/v1/requests/${created.body.id}/cancel`);
  });

  it("refuses a stale card: the version moved on", async () => {
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "prod-db", reason: "x" });
    const stale = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {
      version: created.body.version + 5,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("stale");
    await sesame.api("alice", "POST", `/api/v1/requests/${created.body.id}/cancel`);
  });
});

describe("bad input loses nothing and says what is wrong", () => {
  it("refuses a duration over the maximum, naming the maximum", async () => {
    const response = await sesame.api("alice", "POST", "/api/v1/requests", {
      resource: "prod-db",
      duration: "5h",
      reason: "x",
    });
    expect(response.status).toBe(422);
    expect(response.body.error.message).toContain("4h");
    expect(
      (await sesame.api("alice", "GET", "/api/v1/requests?status=pending")).body.requests.every(
        (r: { durationSeconds: number }) => r.durationSeconds <= 4 * 3600,
      ),
    ).toBe(true);
  });

  it("names the field of a malformed body", async () => {
    const response = await sesame.api("alice", "POST", "/api/v1/requests", { resource: 42, duration: "soon" });
    expect(response.status).toBe(400);
    expect(response.body.error.fields.map((f: { field: string }) => f.field)).toEqual(
      expect.arrayContaining(["body.resource", "body.duration"]),
    );
  });

  it("answers 404 for unknown ids, 401 without a token, and never 500", async () => {
    expect((await sesame.api("alice", "GET", "/api/v1/requests/00000000-0000-4000-8000-000000000000")).status).toBe(
      404,
    );
    expect((await sesame.api("alice", "GET", "/api/v1/requests/not-a-uuid")).status).toBe(400);
    const anonymous = await fetch(`${sesame.baseUrl}/api/v1/requests`);
    expect(anonymous.status).toBe(401);
    const garbage = await fetch(`${sesame.baseUrl}/api/v1/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${sesame.tokens.alice}`, "content-type": "application/json" },
      body: "{",
    });
    expect(garbage.status).toBe(400);
  });

  it("serves health, readiness and an OpenAPI document", async () => {
    expect((await fetch(`${sesame.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${sesame.baseUrl}/readyz`);
    expect(await ready.json()).toEqual({ ready: true, checks: { postgres: "ok", redis: "ok" } });
    const openapi = (await (await fetch(`${sesame.baseUrl}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(["/api/v1/requests", "/api/v1/requests/{id}/approve", "/api/v1/grants/{id}/extend"]),
    );
  });
});

describe("audit", () => {
  it("never writes an issued password into the audit log", async () => {
    const rows = await sesame.runtime.db.auditEvent.findMany();
    expect(rows.some((row) => row.type === "grant.credentials_read")).toBe(true);
    expect(
      JSON.stringify(rows, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)),
    ).not.toMatch(/"password"\s*:\s*"/);
  });

  it("keeps an intact hash chain of everything above", async () => {
    const verdict = await verifyOnceChained(sesame.runtime.db, 21);
    expect(verdict.ok).toBe(true);
    expect(verdict.checked).toBeGreaterThan(20);
  });
});
