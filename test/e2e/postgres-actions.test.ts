import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPostgresAction } from "../../src/connectors/postgres/postgres-action-executor.js";
import { decideRequest } from "../../src/services/decide-request.js";
import type { ActionExecutor } from "../../src/services/ports.js";
import { runAction, sweepLostActions } from "../../src/services/run-action.js";
import { sweep } from "../../src/services/sweep.js";
import { adminQuery, createTestDatabase } from "../helpers/database.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { startTcpProxy } from "../helpers/tcp-proxy.js";
import { waitFor } from "../helpers/wait.js";

/**
 * JIT action approval end to end through the REST API, against the real local PostgreSQL: the
 * executor login `SET ROLE`s to the resource's role, reads are auto-approved, writes wait for bob
 * and run exactly once, DDL is refused, a timeout ends as failed, a crash mid-call as unknown.
 */

const tag = `act_${randomBytes(3).toString("hex")}`;
const appRole = `${tag}_app`;
const executor = `${tag}_exec`;
let target: Awaited<ReturnType<typeof createTestDatabase>>;
let sesame: TestSesame;

const actions = (timeout: string) => `
    actions:
      classes:
        read: { autoApprove: { reason: read-only SQL runs in a READ ONLY transaction } }
        write: { approvers: { users: [bob] } }
        ddl: { refuse: true }
      rowLimit: 2
      maxAffectedRows: 5
      statementTimeout: ${timeout}`;

const policy = () => `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
  - { id: dave, email: dave@example.com, admin: true }
connectors:
  pg: { type: postgres, config: { url: { env: ACTIONS_TARGET_URL } } }
resources:
  demo-db:
    connector: pg
    target: { role: ${appRole} }${actions("5s")}
  slow-db:
    connector: pg
    target: { role: ${appRole} }${actions("1s")}
policies:
  - id: demo
    resources: [demo-db, slow-db]
    requesters: { users: [alice, bob] }
    duration: { default: 1h, max: 1h }
    reason: { required: true }
    approvers: { users: [bob] }
`;

async function targetQuery(sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

async function ask(action: string, resource = "demo-db", who = "alice") {
  return sesame.api(who, "POST", "/api/v1/requests", { resource, action, reason: "ticket OPS-1" });
}

beforeAll(async () => {
  target = await createTestDatabase("actions_target");
  await adminQuery(`CREATE ROLE "${appRole}" NOLOGIN`);
  await adminQuery(`CREATE ROLE "${executor}" LOGIN IN ROLE "${appRole}"`);
  await targetQuery(`CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)`);
  await targetQuery(`INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 10) g`);
  await targetQuery(`GRANT SELECT, UPDATE ON accounts TO "${appRole}"`);
  const url = new URL(target.url);
  url.username = executor;
  sesame = await startSesame("actions", {
    policy: policy(),
    identities: ["alice", "bob", "dave"],
    env: { ACTIONS_TARGET_URL: url.toString() },
  });
});

afterAll(async () => {
  await sesame?.stop();
  await target?.drop();
  for (const role of [executor, appRole]) await adminQuery(`DROP ROLE IF EXISTS "${role}"`);
});

describe("JIT action approval on PostgreSQL, through the API", () => {
  it("auto-approves a read, runs it as the resource's role, and returns the first rows", async () => {
    const text = "SELECT id, balance, current_user AS who FROM accounts ORDER BY id";
    const created = await ask(text);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: "approved", durationSeconds: 0 });
    expect(created.body.autoApprovalReason).toMatch(/READ ONLY/);
    expect(created.body.action).toMatchObject({
      text,
      class: "read",
      status: "succeeded",
      result: { rowCount: 10, columns: ["id", "balance", "who"], truncated: true },
    });
    expect(created.body.action.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(created.body.action.result.rows).toEqual([
      [1, 100, appRole],
      [2, 100, appRole],
    ]);
    const read = await sesame.api("alice", "GET", `/api/v1/requests/${created.body.id}`);
    expect(read.body.action).toEqual(created.body.action);
  });

  it("an UPDATE waits for bob, refuses self-approval and a wrong sha256, then runs exactly once", async () => {
    const text = "UPDATE accounts SET balance = balance + 1 WHERE id = 3";
    const created = await ask(text);
    expect(created.body).toMatchObject({
      status: "pending",
      action: { class: "write", status: "pending", result: null },
    });
    expect(created.body.steps).toEqual([{ name: "approval", approvers: ["bob"], required: 1, received: 0 }]);
    const id = created.body.id as string;

    const self = await sesame.api("alice", "POST", `/api/v1/requests/${id}/approve`, {});
    expect(self.status).toBe(403);
    const wrongText = await sesame.api("bob", "POST", `/api/v1/requests/${id}/approve`, { sha256: "0".repeat(64) });
    expect(wrongText.status).toBe(409);
    expect((await targetQuery("SELECT balance FROM accounts WHERE id = 3")).rows[0].balance).toBe(100);

    const approved = await sesame.api("bob", "POST", `/api/v1/requests/${id}/approve`, {
      version: created.body.version,
      sha256: created.body.action.sha256,
    });
    expect(approved.status).toBe(200);
    expect(approved.body.action).toMatchObject({ status: "succeeded", result: { rowCount: 1 } });
    // The job runs again, the click is replayed: nothing runs a second time.
    const again = await runAction(sesame.runtime.deps, id);
    expect(again?.status).toBe("succeeded");
    const replayed = await sesame.api("bob", "POST", `/api/v1/requests/${id}/approve`, {
      version: created.body.version,
    });
    expect(replayed.status).toBe(409);
    expect((await targetQuery("SELECT balance FROM accounts WHERE id = 3")).rows[0].balance).toBe(101);

    const audit = await sesame.runtime.db.auditEvent.findMany({
      where: { requestId: id },
      orderBy: { seq: "asc" },
    });
    expect(audit.find((event) => event.type === "request.submitted")?.data).toMatchObject({
      action: { sha256: created.body.action.sha256, class: "write" },
    });
    const finished = audit.find((event) => event.type === "action.succeeded");
    expect(finished?.data).toMatchObject({ class: "write", approvers: ["bob"], outcome: "succeeded" });
    expect(JSON.stringify(audit.map((event) => event.data))).not.toContain("balance + 1");
  });

  it("refuses DROP TABLE, an UPDATE without WHERE and a statement with a password, before anyone is asked", async () => {
    for (const [text, why] of [
      ["DROP TABLE accounts", /refuses DDL/],
      ["UPDATE accounts SET balance = 0", /refuses UPDATE\/DELETE without WHERE/],
      ["ALTER ROLE bob PASSWORD 'hunter2'", /credential/],
    ] as const) {
      const refused = await ask(text);
      expect(refused.status).toBe(422);
      expect(JSON.stringify(refused.body)).toMatch(why);
      expect(JSON.stringify(refused.body)).not.toContain("hunter2");
    }
    expect((await targetQuery("SELECT count(*)::int AS n FROM accounts")).rows[0].n).toBe(10);
  });

  it("rolls back a write above maxAffectedRows and reports it as failed", async () => {
    const created = await ask("UPDATE accounts SET balance = 0 WHERE id > 0");
    const approved = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(approved.body.action).toMatchObject({ status: "failed" });
    expect(approved.body.action.result.error).toMatch(/changed 10 rows, more than maxAffectedRows 5: rolled back/);
    expect((await targetQuery("SELECT count(*)::int AS n FROM accounts WHERE balance = 0")).rows[0].n).toBe(0);
  });

  it("a statement timeout ends as failed with the database's message", async () => {
    const created = await ask("SELECT pg_sleep(30)", "slow-db");
    expect(created.body.action.class).toBe("write");
    const approved = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(approved.body.action).toMatchObject({ status: "failed" });
    expect(approved.body.action.result.error).toMatch(/canceling statement due to statement timeout/);
  });

  it("a crash between the claim and the result ends as unknown, found by the sweeper, never run again", async () => {
    const created = await ask("UPDATE accounts SET balance = balance + 1 WHERE id = 4");
    const id = created.body.id as string;
    let calls = 0;
    // The process "dies" inside the call: the executor never comes back, so nothing records a result.
    const dying: ActionExecutor = {
      run: () => {
        calls += 1;
        return new Promise(() => undefined);
      },
    };
    void decideRequest(
      { ...sesame.runtime.deps, actions: dying },
      { requestId: id, actorId: "bob", decision: "approve" },
    );
    await waitFor(async () => calls === 1, "the claimed run to reach the executor");
    const running = await sesame.api("alice", "GET", `/api/v1/requests/${id}`);
    expect(running.body.action.status).toBe("running");
    // Too early: the statement could still be running.
    expect(await sweepLostActions(sesame.runtime.deps, { graceMs: 60_000 })).toBe(0);
    await sweep(sesame.runtime.deps);
    expect((await sesame.api("alice", "GET", `/api/v1/requests/${id}`)).body.action.status).toBe("running");
    // Later than the statement timeout plus the sweeper's grace: the sweeper says unknown.
    sesame.clock.travelTo(new Date(Date.now() + 10 * 60_000));
    try {
      await sweep(sesame.runtime.deps);
    } finally {
      sesame.clock.reset();
    }
    expect(await runAction(sesame.runtime.deps, id)).toMatchObject({ status: "unknown" });
    const after = await sesame.api("alice", "GET", `/api/v1/requests/${id}`);
    expect(after.body.action).toMatchObject({ status: "unknown" });
    expect((await targetQuery("SELECT balance FROM accounts WHERE id = 4")).rows[0].balance).toBe(100);
  });

  it("an executor that throws ends the run unknown at once (it may have sent it), and it is never run again", async () => {
    const created = await ask("UPDATE accounts SET balance = balance + 1 WHERE id = 5");
    const id = created.body.id as string;
    let calls = 0;
    const throwing: ActionExecutor = {
      run: async () => {
        calls += 1;
        throw new Error("postgres://executor:hunter2@db/prod went away");
      },
    };
    await decideRequest(
      { ...sesame.runtime.deps, actions: throwing },
      { requestId: id, actorId: "bob", decision: "approve" },
    );
    const after = await sesame.api("alice", "GET", `/api/v1/requests/${id}`);
    expect(after.body.action).toMatchObject({ status: "unknown" });
    expect(JSON.stringify(after.body)).not.toContain("hunter2");
    expect(await runAction({ ...sesame.runtime.deps, actions: throwing }, id)).toMatchObject({ status: "unknown" });
    expect(calls).toBe(1);
  });

  it("an approved run nobody claimed (the process died after the approval) is run by the sweeper, once", async () => {
    const created = await ask("UPDATE accounts SET balance = balance + 1 WHERE id = 6");
    const id = created.body.id as string;
    const deps = sesame.runtime.deps;
    let transactions = 0;
    const diesAfterApproval = {
      ...deps,
      store: {
        ...deps.store,
        // The decision commits; the process dies before the claim's transaction.
        transaction: ((work, options) => {
          transactions += 1;
          if (transactions > 1) throw new Error("the process died here");
          return deps.store.transaction(work, options);
        }) as typeof deps.store.transaction,
      },
    };
    await decideRequest(diesAfterApproval, { requestId: id, actorId: "bob", decision: "approve" });
    expect((await sesame.api("alice", "GET", `/api/v1/requests/${id}`)).body.action.status).toBe("queued");
    sesame.clock.travelTo(new Date(Date.now() + 60_000));
    try {
      await Promise.all([sweep(deps), sweep(deps)]);
    } finally {
      sesame.clock.reset();
    }
    expect((await sesame.api("alice", "GET", `/api/v1/requests/${id}`)).body.action.status).toBe("succeeded");
    expect((await targetQuery("SELECT balance FROM accounts WHERE id = 6")).rows[0].balance).toBe(101);
  });

  it("the OpenAPI document describes action requests and their result", async () => {
    const openapi = (await (await fetch(`${sesame.baseUrl}/api/v1/openapi.json`)).json()) as any;
    const post = openapi.paths["/api/v1/requests"].post;
    const body = post.requestBody.content["application/json"].schema;
    expect(body.properties.action).toMatchObject({ type: "string", maxLength: 20_000 });
    const view = post.responses["201"].content["application/json"].schema;
    expect(Object.keys(view.properties.action.properties)).toEqual(
      expect.arrayContaining(["text", "sha256", "class", "status", "result"]),
    );
    expect(view.properties.action.properties.status.enum).toEqual([
      "pending",
      "queued",
      "running",
      "succeeded",
      "failed",
      "unknown",
      "not_run",
    ]);
  });

  it("a denied action is not_run", async () => {
    const created = await ask("UPDATE accounts SET balance = 7 WHERE id = 5");
    const denied = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/deny`, { reason: "no" });
    expect(denied.body.action).toMatchObject({ status: "not_run", result: null });
  });

  it("retention purges action requests whose run ended, with their sealed result, and keeps a pending one", async () => {
    const pending = await ask("UPDATE accounts SET balance = 1 WHERE id = 8");
    const deps = sesame.runtime.deps;
    const purged = await deps.store.transaction((uow) =>
      uow.deleteEndedRecords(new Date(Date.now() + 3_600_000), 1000),
    );
    expect(purged).toBeGreaterThan(0);
    expect(await sesame.runtime.db.actionRun.count()).toBe(0);
    expect((await sesame.api("alice", "GET", `/api/v1/requests/${pending.body.id}`)).status).toBe(200);
  });
});

describe("the PostgreSQL action executor when the connection is cut mid-statement", () => {
  it("reports failed (no COMMIT was sent, so nothing was committed) and the process survives", async () => {
    const url = new URL(target.url);
    url.username = executor;
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    try {
      const text = "UPDATE accounts SET balance = balance + 1 WHERE id = 9 AND pg_sleep(30) IS NOT NULL";
      const running = runPostgresAction({
        url: proxy.via(url.toString()),
        role: appRole,
        spec: {
          kind: "sql",
          text,
          sha256: "0".repeat(64),
          class: "write",
          classWhy: "test",
          limits: { rowLimit: 10, maxAffectedRows: null, statementTimeoutMs: 60_000 },
        },
      });
      await waitFor(
        async () =>
          (await adminQuery("SELECT 1 FROM pg_stat_activity WHERE query = $1 AND state = 'active'", [text]))
            .rowCount === 1,
        "the statement to be running",
      );
      await proxy.cut();
      const outcome = await running;
      expect(outcome.outcome).toBe("failed");
      expect(outcome.result.error).toBeTruthy();
      expect(outcome.result.error).not.toContain(`${executor}@`);
      // The orphaned backend never gets a COMMIT: whatever it does, nothing is committed.
      expect((await targetQuery("SELECT balance FROM accounts WHERE id = 9")).rows[0].balance).toBe(100);
    } finally {
      await proxy.restore();
    }
  });
});
