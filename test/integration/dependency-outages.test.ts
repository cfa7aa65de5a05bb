import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_POSTGRES_URL } from "../helpers/database.js";
import { type PrivateRedis, startPrivateRedis } from "../helpers/private-redis.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.js";
import { waitFor } from "../helpers/wait.js";
import { activeGrant, getGrant, requestAndApprove } from "./support.js";

/**
 * Sesame's own dependencies going away. PostgreSQL is shared by every test, so Sesame reaches it
 * through a proxy this file cuts; Redis is a private server this file stops. Gone PostgreSQL: every
 * API call answers 503 with Retry-After, /readyz 503. Gone Redis: the API keeps working and /readyz
 * stays 200 with Redis "degraded". Either way one log line when it goes and one when it is back.
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
    duration: { default: 1h, max: 2h }
    reason: { required: false }
    approvers: { users: [bob] }
`;

/** The server trusts local connections and never asks for it; it must never reach a log line either. */
const PASSWORD = "never-logged-3f9a";

let proxy: TcpProxy;
let redis: PrivateRedis;
let sesame: TestSesame;

beforeAll(async () => {
  const postgres = new URL(TEST_POSTGRES_URL);
  proxy = await startTcpProxy({ host: postgres.hostname, port: Number(postgres.port || 5432) });
  redis = await startPrivateRedis();
  sesame = await startSesame("outages", {
    policy,
    identities: ["alice", "bob"],
    captureLogs: true,
    reachDatabase: (url) => {
      const proxied = new URL(proxy.via(url));
      proxied.password = PASSWORD;
      return proxied.toString();
    },
    // Short, so the half-open case below is over in seconds rather than the default's half-minute.
    env: { REDIS_URL: redis.url, SESAME_DB_CONNECT_TIMEOUT: "2s", SESAME_DB_STATEMENT_TIMEOUT: "3s" },
  });
});
afterAll(async () => {
  await proxy?.restore();
  await redis?.start();
  await sesame?.stop();
  await proxy?.cut();
  await redis?.stop();
});

const linesSaying = (pattern: RegExp) => sesame.logs.filter((line) => pattern.test(String(line.msg)));
const readiness = async () => {
  const response = await fetch(`${sesame.baseUrl}/readyz`);
  return {
    status: response.status,
    body: (await response.json()) as { ready: boolean; checks: Record<string, string> },
  };
};

/** One of each kind of API call: reads, a submission, a decision, a grant action. */
function apiCalls(requestId: string, grantId: string) {
  return [
    () => sesame.api("alice", "GET", `/api/v1/requests/${requestId}`),
    () => sesame.api("alice", "GET", "/api/v1/requests"),
    () => sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db" }),
    () => sesame.api("bob", "POST", `/api/v1/requests/${requestId}/deny`, {}),
    () => sesame.api("alice", "GET", `/api/v1/grants/${grantId}`),
    () => sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`),
  ];
}

async function expectUnavailable(calls: (() => ReturnType<TestSesame["api"]>)[]): Promise<void> {
  for (const call of calls) {
    const answer = await call();
    expect(answer.status, JSON.stringify(answer.body)).toBe(503);
    expect(Number(answer.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(answer.body.error).toEqual({ code: "unavailable", message: expect.stringMatching(/Retry in \d+ seconds/) });
  }
  const ready = await readiness();
  expect(ready.status).toBe(503);
  expect(ready.body).toMatchObject({ ready: false, checks: { postgres: "unreachable" } });
}

async function waitUntilServedAgain(requestId: string): Promise<void> {
  await waitFor(
    async () => (await sesame.api("alice", "GET", `/api/v1/requests/${requestId}`)).status === 200,
    "the API to answer again",
  );
  expect((await readiness()).status).toBe(200);
}

describe("Sesame's PostgreSQL goes away", () => {
  it("answers 503 with Retry-After to every call, logs the outage once, and serves again when it is back", async () => {
    const { requestId, grantId } = await activeGrant(sesame, "alice", "bob", { resource: "app-db" });
    await proxy.cut();

    await expectUnavailable(apiCalls(requestId, grantId));
    await expectUnavailable(apiCalls(requestId, grantId));
    expect(linesSaying(/^database unreachable/)).toHaveLength(1);

    await proxy.restore();
    await waitUntilServedAgain(requestId);
    expect(linesSaying(/^database recovered/)).toHaveLength(1);
    expect(linesSaying(/^database unreachable/)).toHaveLength(1);
    // Nothing made before the outage was lost, and nothing was changed during it.
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("active");
    expect((await sesame.api("alice", "GET", `/api/v1/requests/${requestId}`)).body.status).toBe("approved");
  });

  it("gives up on a connection that stops answering instead of hanging the request", async () => {
    const { requestId, grantId } = await requestAndApprove(sesame, "alice", "bob", { resource: "app-db" });
    // Pooled connections stay open but go silent, and new ones are accepted but never answered:
    // only Sesame's own timeouts (connect, query) can end these requests. Each takes seconds: a
    // read and a write are enough.
    proxy.freeze();

    const [read, , submit] = apiCalls(requestId, grantId);
    await expectUnavailable([read!, submit!]);
    expect(linesSaying(/^database unreachable/)).toHaveLength(2);

    await proxy.restore();
    await waitUntilServedAgain(requestId);
    expect(linesSaying(/^database recovered/)).toHaveLength(2);
  });

  it("never logs the database password", () => {
    expect(linesSaying(/^database/).length).toBeGreaterThan(0);
    expect(JSON.stringify(sesame.logs)).not.toContain(PASSWORD);
  });
});

describe("Redis goes away", () => {
  it("stays ready with Redis degraded, keeps the API working, and logs the outage once", async () => {
    await redis.stop();
    await waitFor(async () => linesSaying(/^Redis unreachable/).length > 0, "the Redis outage to be noticed");

    const ready = await readiness();
    expect(ready).toEqual({ status: 200, body: { ready: true, checks: { postgres: "ok", redis: "degraded" } } });
    const { grantId } = await requestAndApprove(sesame, "alice", "bob", { resource: "app-db" });
    // Its activation could not be queued, so the approval activated it inline.
    expect((await getGrant(sesame, "alice", grantId)).status).toBe("active");

    await redis.start();
    await waitFor(async () => (await readiness()).body.checks.redis === "ok", "Redis to be ok again");
    // Queued again, and run by a worker whose own connection came back.
    await activeGrant(sesame, "alice", "bob", { resource: "app-db" });
    expect(linesSaying(/^Redis recovered/)).toHaveLength(1);
    // Every connection's reconnect attempts, the workers' included, made one line.
    expect(linesSaying(/^Redis unreachable/)).toHaveLength(1);
    expect(linesSaying(/^worker error/)).toEqual([]);
  });
});
