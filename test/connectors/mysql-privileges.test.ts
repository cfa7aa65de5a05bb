import mysql from "mysql2/promise";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { describeWith } from "../helpers/prerequisites.js";
import { runConnectorConformance } from "./conformance.js";
import { createMysqlFixture, type MysqlFixture } from "./mysql-fixture.js";

/** The mysql connector in privileges mode, against the real local MariaDB. */

let fixture: MysqlFixture;
let carol: string;
beforeAll(async () => {
  fixture = await createMysqlFixture("priv");
  carol = await fixture.requester("carol");
});
afterAll(async () => {
  await fixture?.cleanup();
});

const onDatabase = () => `${fixture.database}.*`;
const privilegesTarget = (privileges: string[] = ["select"], on = onDatabase()) => ({
  mode: "privileges",
  privileges,
  on,
});
const escapedDatabase = () => fixture.database.replace(/_/g, "\\_");
const dbRows = async (user: string) =>
  (await fixture.root("SELECT 1 FROM mysql.db WHERE User = ? AND Host = '%'", [user])).length;
const dbPrivilege = async (user: string, column: string) =>
  (
    (await fixture.root(
      `SELECT ${mysql.escapeId(column)} AS held FROM mysql.db WHERE User = ? AND Host = '%' AND Db = ?`,
      [user, escapedDatabase()],
    )) as { held: string }[]
  )[0]?.held;

runConnectorConformance(
  "mysql (privileges)",
  async () => ({
    connector: fixture.connector(),
    makeContext: () => fixture.context(carol, privilegesTarget()),
    hasAccess: (context) => fixture.canRead(context.principal),
    countAccess: (context) => dbRows(context.principal),
    removeOutOfBand: async (context) =>
      void (await fixture.root(
        `REVOKE SELECT ON ${mysql.escapeId(escapedDatabase())}.* FROM ${mysql.escape(context.principal)}@'%'`,
      )),
    secrets: fixture.secrets,
    breakConnector: async () =>
      fixture.connector({ url: fixture.sesameUrl.replace(/:\d+\/?$/, ":1") }, "mysql-unreachable"),
    makeFailingContext: () => fixture.context(`${fixture.prefix}_nobody`, privilegesTarget()),
  }),
  { brokenConnector: true, failingContext: true, requires: "mariadb" },
);

describeWith("mariadb", "mysql connector, privileges mode", () => {
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
    const context = fixture.context(carol, privilegesTarget());
    expect(await fixture.canRead(carol)).toBe(false);
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({
      mode: "privileges",
      account: `${carol}@%`,
      privileges: ["SELECT"],
      on: onDatabase(),
      preexisting: false,
    });
    expect(await fixture.canRead(carol)).toBe(true);
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(false);
    await revoke(context, receipt.data);
    expect(await fixture.canRead(carol)).toBe(false);
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
  });

  it("ends a session sitting in the database: it would keep the privilege after REVOKE", async () => {
    const context = fixture.context(carol, privilegesTarget());
    const receipt = await connector.grant(context);
    const session = await fixture.openSession(carol, fixture.database);
    await expect(session.query("SELECT COUNT(*) FROM items")).resolves.toBeDefined();
    await revoke(context, receipt.data);
    await expect(session.query("SELECT COUNT(*) FROM items")).rejects.toThrow();
    expect(await fixture.canRead(carol)).toBe(false);
  });

  it("grants exactly the named database: `_` in its name is escaped, not a wildcard", async () => {
    const context = fixture.context(carol, privilegesTarget());
    const receipt = await connector.grant(context);
    expect(await fixture.canRead(carol)).toBe(true);
    expect(await fixture.canRead(carol, fixture.lookalikeDatabase)).toBe(false);
    await revoke(context, receipt.data);
  });

  it("grants on a single table", async () => {
    const context = fixture.context(carol, privilegesTarget(["SELECT"], `${fixture.database}.items`));
    const receipt = await connector.grant(context);
    expect(await fixture.canRead(carol)).toBe(true);
    await revoke(context, receipt.data);
    expect(await fixture.canRead(carol)).toBe(false);
    expect(await fixture.root("SELECT 1 FROM mysql.tables_priv WHERE User = ?", [carol])).toHaveLength(0);
  });

  it("removes only the privileges it added, never ones the account already had", async () => {
    const bob = await fixture.requester("bob");
    await fixture.root(`GRANT SELECT ON ${mysql.escapeId(escapedDatabase())}.* TO ${mysql.escape(bob)}@'%'`);
    const context = fixture.context(bob, privilegesTarget(["SELECT", "INSERT"]));
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({
      preexisting: false,
      items: [{ item: `privilege:INSERT on ${onDatabase()}`, preexisting: false }, { preexisting: true }],
    });
    expect(await dbPrivilege(bob, "Insert_priv")).toBe("Y");
    await revoke(context, receipt.data);
    expect(await dbPrivilege(bob, "Insert_priv")).toBe("N");
    expect(await dbPrivilege(bob, "Select_priv")).toBe("Y");
    expect(await fixture.canRead(bob)).toBe(true);

    const onlySelect = fixture.context(bob, privilegesTarget(["SELECT"]));
    expect((await connector.grant(onlySelect)).data).toMatchObject({ preexisting: true });
    await revoke(onlySelect, null);
    expect(await fixture.canRead(bob)).toBe(true);
  });

  it("refuses what Sesame's account may not grant, naming the privilege, and leaves nothing half-granted", async () => {
    const context = fixture.context(carol, privilegesTarget(["SELECT", "UPDATE"]));
    await expect(connector.grant(context)).rejects.toMatchObject({
      code: "connector_failed",
      userMessage: expect.stringMatching(
        /may not grant UPDATE on .*_db\.\* .*it needs UPDATE on .*_db\.\* WITH GRANT OPTION/,
      ),
    });
    expect(await fixture.canRead(carol)).toBe(false);
    await revoke(context, null);
    expect(await dbRows(carol)).toBe(0);
  });
});
