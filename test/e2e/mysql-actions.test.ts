import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMysqlAction } from "../../src/connectors/mysql/mysql-action-executor.js";
import { MysqlConfigSchema } from "../../src/connectors/mysql/mysql-config.js";
import { classifyMysqlSql } from "../../src/domain/actions/mysql-sql-classifier.js";
import { runAction } from "../../src/services/run-action.js";
import { TEST_MYSQL_URL } from "../connectors/mysql-fixture.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";

/**
 * JIT action approval on the real local MariaDB, through the REST API: the executor login
 * `SET ROLE`s to the resource's role (role mode), reads with backticks are auto-approved and run
 * in a READ ONLY transaction, an UPDATE waits for bob and runs once, DDL is refused (it would
 * commit implicitly), and `max_statement_time` ends a slow statement as failed with MariaDB's
 * own message.
 */

const tag = `ma${randomBytes(3).toString("hex")}`;
const database = `${tag}_db`;
const appRole = `${tag}_app`;
const executor = `${tag}_exec`;
const password = `x-${randomBytes(8).toString("hex")}`;
let sesame: TestSesame;

const id = (name: string) => mysql.escapeId(name, true);

async function root(sql: string): Promise<unknown[]> {
  const connection = await mysql.createConnection({ uri: TEST_MYSQL_URL, multipleStatements: true });
  try {
    const [rows] = await connection.query(sql);
    return rows as unknown[];
  } finally {
    await connection.end();
  }
}

const balance = async (row: number) =>
  ((await root(`SELECT balance FROM ${id(database)}.accounts WHERE id = ${row}`)) as { balance: number }[])[0]!.balance;

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
  maria: { type: mysql, config: { url: { env: ACTIONS_MYSQL_URL } } }
resources:
  demo-maria:
    connector: maria
    target: { mode: role, role: ${appRole} }${actions("5s")}
  slow-maria:
    connector: maria
    target: { mode: role, role: ${appRole} }${actions("1s")}
policies:
  - id: demo
    resources: [demo-maria, slow-maria]
    requesters: { users: [alice, bob] }
    duration: { default: 1h, max: 1h }
    reason: { required: true }
    approvers: { users: [bob] }
`;

async function ask(action: string, resource = "demo-maria", who = "alice") {
  return sesame.api(who, "POST", "/api/v1/requests", { resource, action, reason: "ticket OPS-2" });
}

beforeAll(async () => {
  await root(`
    CREATE DATABASE ${id(database)};
    CREATE TABLE ${id(database)}.accounts (id INT PRIMARY KEY, balance INT NOT NULL);
    INSERT INTO ${id(database)}.accounts VALUES ${Array.from({ length: 10 }, (_, i) => `(${i + 1}, 100)`).join(", ")};
    CREATE ROLE ${id(appRole)};
    GRANT SELECT, UPDATE ON ${id(database)}.accounts TO ${id(appRole)};
    CREATE USER ${mysql.escape(executor)}@'%' IDENTIFIED BY ${mysql.escape(password)};
    GRANT ${id(appRole)} TO ${mysql.escape(executor)}@'%';
  `);
  const url = new URL(TEST_MYSQL_URL);
  url.username = executor;
  url.password = password;
  url.pathname = `/${database}`;
  sesame = await startSesame("mysql_actions", {
    policy: policy(),
    identities: ["alice", "bob", "dave"],
    env: { ACTIONS_MYSQL_URL: url.toString() },
  });
});

afterAll(async () => {
  await sesame?.stop();
  await root(`DROP DATABASE IF EXISTS ${id(database)}`);
  await root(`DROP USER IF EXISTS ${mysql.escape(executor)}@'%'`);
  await root(`DROP ROLE IF EXISTS ${id(appRole)}`);
});

describe("the MariaDB SQL classifier", () => {
  it("reads MariaDB's own syntax (backticks, LIMIT a, b) and sorts statements into classes", () => {
    const cases: [string, string][] = [
      ["SELECT `id` FROM `accounts` WHERE `id` > 1 ORDER BY `id` LIMIT 1, 2", "read"],
      ["SELECT COUNT(*), LOWER(`name`) FROM `t` GROUP BY `name`", "read"],
      ["UPDATE `accounts` SET `balance` = 1 WHERE `id` = 2", "write"],
      ["DELETE FROM `db`.`accounts` WHERE `id` = 1", "write"],
      ["INSERT INTO `accounts` (`id`, `balance`) VALUES (11, 1)", "write"],
      ["UPDATE `accounts` SET `balance` = 0", "unbounded_write"],
      ["SELECT * FROM `accounts` FOR UPDATE", "write"],
      ["SELECT `balance` INTO @x FROM `accounts` WHERE `id` = 1", "write"],
      ["SELECT SLEEP(5)", "write"],
      ["DROP TABLE `accounts`", "refused"],
      ["COMMIT", "refused"],
      ["SELECT LOAD_FILE('/etc/passwd')", "refused"],
      ["SELECT * FROM `accounts` INTO OUTFILE '/tmp/accounts'", "refused"],
      ["SELECT 1; SELECT 2", "refused"],
      ["SET ROLE NONE", "ddl"],
    ];
    for (const [text, expected] of cases) expect([text, classifyMysqlSql(text).class]).toEqual([text, expected]);
  });
});

describe("JIT action approval on MariaDB (role mode), through the API", () => {
  it("auto-approves a read with backticks, runs it as the resource's role, and returns the first rows", async () => {
    const text = "SELECT `id`, `balance`, CURRENT_ROLE() AS `who` FROM `accounts` ORDER BY `id`";
    const created = await ask(text);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: "approved", durationSeconds: 0 });
    expect(created.body.action).toMatchObject({
      class: "read",
      status: "succeeded",
      result: { rowCount: 10, columns: ["id", "balance", "who"], truncated: true },
    });
    expect(created.body.action.result.rows).toEqual([
      [1, 100, appRole],
      [2, 100, appRole],
    ]);
  });

  it("an UPDATE waits for bob, refuses self-approval, then runs exactly once", async () => {
    const created = await ask("UPDATE `accounts` SET `balance` = `balance` + 1 WHERE `id` = 3");
    expect(created.body).toMatchObject({ status: "pending", action: { class: "write", status: "pending" } });
    const id = created.body.id as string;
    expect((await sesame.api("alice", "POST", `/api/v1/requests/${id}/approve`, {})).status).toBe(403);
    expect(await balance(3)).toBe(100);
    const approved = await sesame.api("bob", "POST", `/api/v1/requests/${id}/approve`, {
      version: created.body.version,
      sha256: created.body.action.sha256,
    });
    expect(approved.body.action).toMatchObject({ status: "succeeded", result: { rowCount: 1 } });
    expect((await runAction(sesame.runtime.deps, id))?.status).toBe("succeeded");
    expect((await sesame.api("bob", "POST", `/api/v1/requests/${id}/approve`, {})).status).toBe(409);
    expect(await balance(3)).toBe(101);
  });

  it("refuses DDL (it would commit implicitly) and an UPDATE without WHERE before anyone is asked", async () => {
    for (const [text, why] of [
      ["DROP TABLE `accounts`", /commits implicitly/],
      ["UPDATE `accounts` SET `balance` = 0", /refuses UPDATE\/DELETE without WHERE/],
    ] as const) {
      const refused = await ask(text);
      expect(refused.status).toBe(422);
      expect(JSON.stringify(refused.body)).toMatch(why);
    }
    expect(((await root(`SELECT COUNT(*) AS n FROM ${id(database)}.accounts`)) as { n: number }[])[0]!.n).toBe(10);
  });

  it("rolls back a write above maxAffectedRows", async () => {
    const created = await ask("UPDATE `accounts` SET `balance` = 0 WHERE `id` > 0");
    const approved = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(approved.body.action).toMatchObject({ status: "failed" });
    expect(approved.body.action.result.error).toMatch(/changed 10 rows, more than maxAffectedRows 5: rolled back/);
    expect(await balance(5)).toBe(100);
  });

  it("the read class runs in a READ ONLY transaction: a write that reached it anyway fails", async () => {
    const url = new URL(TEST_MYSQL_URL);
    url.username = executor;
    url.password = password;
    url.pathname = `/${database}`;
    const text = "UPDATE `accounts` SET `balance` = 1 WHERE `id` = 1";
    const outcome = await runMysqlAction({
      config: MysqlConfigSchema.parse({ url: url.toString() }),
      role: appRole,
      spec: {
        kind: "sql",
        text,
        sha256: "0".repeat(64),
        class: "read",
        classWhy: "pretend the parser missed it",
        limits: { rowLimit: 10, maxAffectedRows: null, statementTimeoutMs: 5000 },
      },
    });
    expect(outcome).toMatchObject({ outcome: "failed", result: { error: expect.stringMatching(/READ ONLY/) } });
    expect(JSON.stringify(outcome)).not.toContain(password);
    expect(await balance(1)).toBe(100);
  });

  it("a statement timeout ends as failed with MariaDB's message", async () => {
    const created = await ask("SELECT `id`, SLEEP(30) FROM `accounts` WHERE `id` = 1", "slow-maria");
    expect(created.body.action.class).toBe("write");
    const approved = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {});
    expect(approved.body.action).toMatchObject({ status: "failed" });
    expect(approved.body.action.result.error).toMatch(/max_statement_time/);
  });
});
