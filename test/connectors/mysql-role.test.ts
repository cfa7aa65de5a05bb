import mysql from "mysql2/promise";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { runMysqlAction } from "../../src/connectors/mysql/mysql-action-executor.js";
import { MysqlConfigSchema } from "../../src/connectors/mysql/mysql-config.js";
import { describeWith } from "../helpers/prerequisites.js";
import { type ActionSubject, runConnectorConformance } from "./conformance.js";
import { createMysqlFixture, type MysqlFixture, TEST_MYSQL_URL } from "./mysql-fixture.js";

/** The mysql connector in role mode, against the real local MariaDB. */

let fixture: MysqlFixture;
let alice: string;
beforeAll(async () => {
  fixture = await createMysqlFixture("role");
  alice = await fixture.requester("alice");
});
afterAll(async () => {
  await fixture?.cleanup();
});

const roleTarget = (extra: Record<string, unknown> = {}) => ({ mode: "role", role: fixture.role, ...extra });
const roleRows = async (user: string, role = fixture.role) =>
  (await fixture.root("SELECT 1 FROM mysql.roles_mapping WHERE User = ? AND Host = '%' AND Role = ?", [user, role]))
    .length;
const defaultRole = async (user: string) =>
  (
    (await fixture.root("SELECT default_role AS role FROM mysql.user WHERE User = ? AND Host = '%'", [user])) as {
      role: string;
    }[]
  )[0]?.role;

/** An executor account holding the fixture's role, and a counter table the role may update (JIT actions). */
async function mysqlActions(): Promise<ActionSubject> {
  const executor = await fixture.requester("exec");
  const table = `${mysql.escapeId(fixture.database)}.\`counter\``;
  await fixture.root(`CREATE TABLE ${table} (id INT PRIMARY KEY, n INT NOT NULL)`);
  await fixture.root(`INSERT INTO ${table} VALUES (1, 0)`);
  await fixture.root(`GRANT SELECT, UPDATE ON ${table} TO ${mysql.escapeId(fixture.role)}`);
  await fixture.root(`GRANT ${mysql.escapeId(fixture.role)} TO ${mysql.escape(executor)}@'%'`);
  const server = new URL(TEST_MYSQL_URL);
  return {
    run: (spec, port) =>
      runMysqlAction({
        config: MysqlConfigSchema.parse({ url: fixture.urlFor(executor, "requester-pw-1", port) }),
        role: fixture.role,
        spec,
      }),
    increment: `UPDATE ${table} SET \`n\` = \`n\` + 1 WHERE \`id\` = 1`,
    counter: async () => ((await fixture.root(`SELECT n FROM ${table} WHERE id = 1`)) as { n: number }[])[0]!.n,
    server: { host: server.hostname, port: Number(server.port || 3306) },
  };
}

runConnectorConformance(
  "mysql (role)",
  async () => ({
    connector: fixture.connector(),
    makeContext: () => fixture.context(alice, roleTarget()),
    hasAccess: (context) => fixture.canRead(context.principal),
    countAccess: (context) => roleRows(context.principal),
    removeOutOfBand: async (context) =>
      void (await fixture.root(`REVOKE ${mysql.escapeId(fixture.role)} FROM ${mysql.escape(context.principal)}@'%'`)),
    secrets: fixture.secrets,
    breakConnector: async () =>
      fixture.connector({ url: fixture.sesameUrl.replace(/:\d+\/?$/, ":1") }, "mysql-unreachable"),
    makeFailingContext: () => fixture.context(`${fixture.prefix}_nobody`, roleTarget()),
    actions: await mysqlActions(),
  }),
  { brokenConnector: true, failingContext: true, actions: true, requires: "mariadb" },
);

describeWith("mariadb", "mysql connector, role mode", () => {
  let connector: Connector;
  const revoke = (context: GrantContext, data: Record<string, unknown> | null) =>
    connector.revoke({ ...context, receipt: data });
  beforeAll(() => {
    connector = fixture.connector();
  });
  afterAll(async () => {
    await connector?.close?.();
  });

  it("refuses the requester before the grant, allows a new login during it, refuses it after", async () => {
    const context = fixture.context(alice, roleTarget());
    expect(await fixture.canRead(alice)).toBe(false);
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({ mode: "role", account: `${alice}@%`, role: fixture.role, preexisting: false });
    expect(await defaultRole(alice)).toBe(fixture.role);
    expect(await fixture.canRead(alice)).toBe(true);
    await revoke(context, receipt.data);
    expect(await fixture.canRead(alice)).toBe(false);
    expect(await defaultRole(alice)).toBe("");
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
  });

  it("ends sessions opened during the grant: they would keep the role after REVOKE", async () => {
    const context = fixture.context(alice, roleTarget());
    const receipt = await connector.grant(context);
    const session = await fixture.openSession(alice);
    await expect(
      session.query(`SELECT COUNT(*) FROM ${mysql.escapeId(fixture.database)}.items`),
    ).resolves.toBeDefined();
    await revoke(context, receipt.data);
    await expect(session.query("SELECT 1")).rejects.toThrow();
    expect(await fixture.canRead(alice)).toBe(false);
  });

  it("never removes a role (or default role) the account had before Sesame's grant", async () => {
    const bob = await fixture.requester("bob");
    await fixture.root(
      `GRANT ${mysql.escapeId(fixture.role)} TO ${mysql.escape(bob)}@'%'; SET DEFAULT ROLE ${mysql.escapeId(fixture.role)} FOR ${mysql.escape(bob)}@'%'`,
    );
    const context = fixture.context(bob, roleTarget());
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({ preexisting: true });
    await revoke(context, receipt.data);
    await revoke({ ...context, grantId: `${context.grantId}-lost` }, null);
    expect(await roleRows(bob)).toBe(1);
    expect(await defaultRole(bob)).toBe(fixture.role);
    expect(await fixture.canRead(bob)).toBe(true);
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
  });

  it("puts back the default role its grant displaced (MariaDB keeps only one)", async () => {
    const erin = await fixture.requester("erin");
    const other = `${fixture.prefix}_other`;
    await fixture.root(
      `CREATE ROLE ${mysql.escapeId(other)}; GRANT ${mysql.escapeId(other)} TO ${mysql.escape(erin)}@'%'; SET DEFAULT ROLE ${mysql.escapeId(other)} FOR ${mysql.escape(erin)}@'%'`,
    );
    try {
      const context = fixture.context(erin, roleTarget());
      await connector.grant(context);
      expect(await defaultRole(erin)).toBe(fixture.role);
      await revoke(context, null);
      expect(await defaultRole(erin)).toBe(other);
      expect(await roleRows(erin)).toBe(0);
    } finally {
      await fixture.root(`DROP ROLE ${mysql.escapeId(other)}`);
    }
  });

  it("a retried grant whose first receipt was lost still counts as Sesame's, so revoke removes it", async () => {
    const context = fixture.context(alice, roleTarget());
    await connector.grant(context);
    const retried = await connector.grant(context);
    expect(retried.data).toMatchObject({ preexisting: false });
    await revoke(context, null);
    expect(await roleRows(alice)).toBe(0);
  });

  it("keeps the role while another active Sesame grant of it remains", async () => {
    const first = fixture.context(alice, roleTarget());
    const second = fixture.context(alice, roleTarget());
    const firstReceipt = await connector.grant(first);
    const secondReceipt = await connector.grant(second);
    expect(secondReceipt.data).toMatchObject({ preexisting: false });
    await revoke(first, firstReceipt.data);
    expect(await fixture.canRead(alice)).toBe(true);
    expect(await connector.verifyRevoked?.({ ...first, receipt: firstReceipt.data })).toBe(true);
    await revoke(second, secondReceipt.data);
    expect(await fixture.canRead(alice)).toBe(false);
    expect(await defaultRole(alice)).toBe("");
  });

  it("two overlapping grants revoked at the same moment from two processes leave nothing behind", async () => {
    const other = fixture.connector({}, "mysql-second-process");
    try {
      const contexts = [fixture.context(alice, roleTarget()), fixture.context(alice, roleTarget())];
      const receipts = [await connector.grant(contexts[0]!), await other.grant(contexts[1]!)];
      await Promise.all([
        revoke(contexts[0]!, receipts[0]!.data),
        other.revoke({ ...contexts[1]!, receipt: receipts[1]!.data }),
      ]);
      expect(await roleRows(alice)).toBe(0);
      expect(await defaultRole(alice)).toBe("");
    } finally {
      await other.close?.();
    }
  });

  it("with defaultRole: false the requester must SET ROLE, and revoke still ends that session", async () => {
    const context = fixture.context(alice, roleTarget({ defaultRole: false }));
    const receipt = await connector.grant(context);
    expect(await fixture.canRead(alice)).toBe(false);
    const session = await fixture.openSession(alice);
    await session.query(`SET ROLE ${mysql.escapeId(fixture.role)}`);
    await expect(
      session.query(`SELECT COUNT(*) FROM ${mysql.escapeId(fixture.database)}.items`),
    ).resolves.toBeDefined();
    await revoke(context, receipt.data);
    await expect(session.query("SELECT 1")).rejects.toThrow();
    expect(await roleRows(alice)).toBe(0);
  });

  it("names a missing role or account in words an operator can act on", async () => {
    await expect(connector.grant(fixture.context(alice, { mode: "role", role: "no_such_role" }))).rejects.toMatchObject(
      {
        code: "connector_failed",
        userMessage: expect.stringMatching(/Role "no_such_role" does not exist/),
      },
    );
    await expect(connector.grant(fixture.context(`${fixture.prefix}_ghost`, roleTarget()))).rejects.toMatchObject({
      userMessage: expect.stringMatching(/no account .*_ghost@% on the target/),
    });
  });
});
