import mysql from "mysql2/promise";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { describeWith } from "../helpers/prerequisites.js";
import { createMysqlFixture, type MysqlFixture } from "./mysql-fixture.js";

/**
 * The mysql connector's ledger must never make a revoke leave access in place: rows of failed
 * grants, of grants whose revoke never ran, or written by someone else than Sesame. Against the
 * real local MariaDB.
 */

let fixture: MysqlFixture;
let connector: Connector;
beforeAll(async () => {
  fixture = await createMysqlFixture("ledg");
  connector = fixture.connector();
});
afterAll(async () => {
  await connector?.close?.();
  await fixture?.cleanup();
});

const id = (name: string) => mysql.escapeId(name, true);
const onDatabase = () => `${fixture.database}.*`;
const escapedDatabase = () => fixture.database.replace(/_/g, "\\_");
const privilegesTarget = (privileges: string[]) => ({ mode: "privileges", privileges, on: onDatabase() });
const ledger = () => `${id(fixture.ledgerDatabase)}.sesame_grants_v2`;
const legacyLedger = () => `${id(fixture.ledgerDatabase)}.sesame_grants`;
const itemOf = (privilege: string) => `privilege:${privilege} on ${onDatabase()}`;
const revoke = (context: GrantContext, data: Record<string, unknown> | null) =>
  connector.revoke({ ...context, receipt: data });
const verify = (context: GrantContext, data: Record<string, unknown> | null) =>
  connector.verifyRevoked!({ ...context, receipt: data });
const sesameAccount = () => `${mysql.escape(`${fixture.prefix}_sesame`)}@'%'`;
/** What SHOW GRANTS lists for the account on the test database. */
const shownGrants = async (user: string) =>
  ((await fixture.root(`SHOW GRANTS FOR ${mysql.escape(user)}@'%'`)) as Record<string, string>[])
    .map((row) => Object.values(row)[0]!)
    .filter((line) => line.includes("_db`"));
/** The previous version's ledger table, as it created it. */
const createLegacyLedger = async () => {
  await connector.check({});
  await fixture.root(`CREATE TABLE IF NOT EXISTS ${legacyLedger()} (
    grant_id VARCHAR(191) NOT NULL, item VARCHAR(255) NOT NULL, account VARCHAR(400) NOT NULL, preexisting BOOLEAN NOT NULL, previous VARCHAR(80) NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, revoked_at TIMESTAMP NULL, PRIMARY KEY (grant_id, item), KEY account_item (account, item)) ENGINE=InnoDB`);
};
const expired = (context: GrantContext): GrantContext => ({ ...context, expiresAt: new Date(Date.now() - 60_000) });

describeWith("mariadb", "mysql ledger: a failed grant's rows never hold access", () => {
  it("grant A fails (Sesame may not grant UPDATE), grant B succeeds later: revoking B removes UPDATE", async () => {
    const alice = await fixture.requester("alice");
    const a = fixture.context(alice, privilegesTarget(["UPDATE"]));
    await expect(connector.grant(a)).rejects.toMatchObject({
      userMessage: expect.stringMatching(/may not grant UPDATE/),
    });
    // A's row stays live: the grant was cancelled, or its undo never ran.
    expect(await fixture.root(`SELECT applied, revoked_at FROM ${ledger()} WHERE grant_id = ?`, [a.grantId])).toEqual([
      { applied: 0, revoked_at: null },
    ]);
    await fixture.root(`GRANT UPDATE ON ${id(escapedDatabase())}.* TO ${sesameAccount()} WITH GRANT OPTION`);
    try {
      const b = fixture.context(alice, privilegesTarget(["UPDATE"]));
      const receipt = await connector.grant(b);
      expect(await shownGrants(alice)).toEqual([expect.stringContaining("GRANT UPDATE ON")]);
      await revoke(b, receipt.data);
      expect(await verify(b, receipt.data)).toBe(true);
      expect(await shownGrants(alice)).toEqual([]);
    } finally {
      await fixture.root(`REVOKE UPDATE ON ${id(escapedDatabase())}.* FROM ${sesameAccount()}`);
    }
  });

  it("a half-done grant (INSERT added, UPDATE refused, INSERT undone) holds nothing for a later grant of INSERT", async () => {
    const bob = await fixture.requester("bob");
    const a = fixture.context(bob, privilegesTarget(["INSERT", "UPDATE"]));
    await expect(connector.grant(a)).rejects.toMatchObject({ code: "connector_failed" });
    expect(
      await fixture.root(`SELECT item, applied FROM ${ledger()} WHERE grant_id = ? ORDER BY item`, [a.grantId]),
    ).toEqual([
      { item: itemOf("INSERT"), applied: 0 },
      { item: itemOf("UPDATE"), applied: 0 },
    ]);
    const b = fixture.context(bob, privilegesTarget(["INSERT"]));
    const receipt = await connector.grant(b);
    expect(receipt.data).toMatchObject({ preexisting: false });
    await revoke(b, receipt.data);
    expect(await verify(b, receipt.data)).toBe(true);
    expect(await shownGrants(bob)).toEqual([]);
  });

  it("access a failed grant left behind is Sesame's, not preexisting: the next grant's revoke removes it", async () => {
    const carl = await fixture.requester("carl");
    const a = fixture.context(carl, privilegesTarget(["SELECT"]));
    await connector.grant(a);
    await fixture.root(`UPDATE ${ledger()} SET applied = 0 WHERE grant_id = ?`, [a.grantId]); // as if A failed after adding and its undo failed
    const b = fixture.context(carl, privilegesTarget(["SELECT"]));
    const receipt = await connector.grant(b);
    expect(receipt.data).toMatchObject({ preexisting: false });
    await revoke(b, receipt.data);
    expect(await fixture.canRead(carl)).toBe(false);
  });
});

describeWith("mariadb", "mysql ledger: expiry", () => {
  it("a grant whose revoke never ran holds its item only until its expiry", async () => {
    const dana = await fixture.requester("dana");
    const a = expired(fixture.context(dana, privilegesTarget(["SELECT"])));
    const receiptA = await connector.grant(a);
    const b = fixture.context(dana, privilegesTarget(["SELECT"]));
    const receiptB = await connector.grant(b);
    await revoke(b, receiptB.data);
    expect(await verify(b, receiptB.data)).toBe(true);
    expect(await fixture.canRead(dana)).toBe(false);
    await revoke(a, receiptA.data);
  });

  it("extend moves the expiry: an extended grant keeps the shared item through the other grant's revoke", async () => {
    const emil = await fixture.requester("emil");
    const a = expired(fixture.context(emil, privilegesTarget(["SELECT"])));
    const receiptA = await connector.grant(a);
    const b = fixture.context(emil, privilegesTarget(["SELECT"]));
    const receiptB = await connector.grant(b);
    const later = new Date(Date.now() + 3_600_000);
    await connector.extend!({ ...a, expiresAt: later, receipt: receiptA.data });
    await revoke(b, receiptB.data);
    expect(await fixture.canRead(emil)).toBe(true);
    expect(await verify(b, receiptB.data)).toBe(true);
    await revoke({ ...a, expiresAt: later }, receiptA.data);
    expect(await fixture.canRead(emil)).toBe(false);
  });
});

describeWith("mariadb", "mysql ledger: rows written by others", () => {
  it("a forged row (not applied, or expired, or in the old table) does not make revoke skip the access", async () => {
    const fred = await fixture.requester("fred");
    const account = `${fred}@%`;
    await connector.check({});
    await fixture.root(
      `INSERT INTO ${ledger()} (grant_id, item, account, preexisting, expires_at) VALUES ('forged-1', ?, ?, 0, '2999-01-01')`,
      [itemOf("SELECT"), account],
    );
    await fixture.root(
      `INSERT INTO ${ledger()} (grant_id, item, account, preexisting, applied, expires_at) VALUES ('forged-2', ?, ?, 0, 1, '2000-01-01')`,
      [itemOf("SELECT"), account],
    );
    await createLegacyLedger();
    await fixture.root(
      `INSERT INTO ${legacyLedger()} (grant_id, item, account, preexisting) VALUES ('forged-3', ?, ?, 0)`,
      [itemOf("SELECT"), account],
    );
    const context = fixture.context(fred, privilegesTarget(["SELECT"]));
    const receipt = await connector.grant(context);
    expect(await fixture.canRead(fred)).toBe(true);
    await revoke(context, receipt.data);
    expect(await verify(context, receipt.data)).toBe(true);
    expect(await fixture.canRead(fred)).toBe(false);
  });

  it("revoke takes preexisting from the receipt, and a revoked mark set by someone else does not stop it", async () => {
    const gina = await fixture.requester("gina");
    const context = fixture.context(gina, privilegesTarget(["SELECT"]));
    const receipt = await connector.grant(context);
    await fixture.root(`UPDATE ${ledger()} SET preexisting = 1, revoked_at = CURRENT_TIMESTAMP WHERE grant_id = ?`, [
      context.grantId,
    ]);
    expect(await verify(context, receipt.data)).toBe(false);
    await revoke(context, receipt.data);
    expect(await verify(context, receipt.data)).toBe(true);
    expect(await fixture.canRead(gina)).toBe(false);
  });

  it("check() names every other account or role that may write the ledger database", async () => {
    const writer = `${fixture.prefix}_writer`;
    const columnWriter = `${fixture.prefix}_colwriter`;
    const role = `${fixture.prefix}_ledgerrole`;
    const pattern = `${fixture.ledgerDatabase.slice(0, -3).replace(/_/g, "\\_")}%`;
    await connector.check({});
    await fixture.root(`CREATE USER ${mysql.escape(writer)}@'%'; CREATE USER ${mysql.escape(columnWriter)}@'%'; CREATE ROLE ${id(role)};
      GRANT INSERT ON ${id(pattern)}.* TO ${mysql.escape(writer)}@'%';
      GRANT UPDATE (expires_at) ON ${ledger()} TO ${mysql.escape(columnWriter)}@'%';
      GRANT UPDATE ON ${id(fixture.ledgerDatabase.replace(/_/g, "\\_"))}.* TO ${id(role)}`);
    try {
      const result = await connector.check({});
      expect(result.ok).toBe(false);
      expect(result.problems).toHaveLength(1);
      const [problem] = result.problems;
      expect(problem).toMatch(/Accounts other than Sesame's may write its ledger/);
      expect(problem).toContain(`'${writer}'@'%'`);
      expect(problem).toContain(`'${columnWriter}'@'%' (on ${fixture.ledgerDatabase}.sesame_grants_v2)`);
      expect(problem).toContain(`'${role}'@''`);
      expect(problem).not.toContain(`${fixture.prefix}_sesame`);
    } finally {
      await fixture.root(
        `DROP USER ${mysql.escape(writer)}@'%'; DROP USER ${mysql.escape(columnWriter)}@'%'; DROP ROLE ${id(role)}`,
      );
    }
    expect(await connector.check({})).toEqual({ ok: true, problems: [] });
  });
});

describeWith("mariadb", "mysql ledger: grants recorded by the previous version (table sesame_grants)", () => {
  it("revokes such a grant from its receipt, or from its old rows when the receipt is lost", async () => {
    const hugo = await fixture.requester("hugo");
    await createLegacyLedger();
    const grantSelect = () => fixture.root(`GRANT SELECT ON ${id(escapedDatabase())}.* TO ${mysql.escape(hugo)}@'%'`);
    for (const withReceipt of [true, false]) {
      const old = fixture.context(hugo, privilegesTarget(["SELECT"]));
      await fixture.root(`INSERT INTO ${legacyLedger()} (grant_id, item, account, preexisting) VALUES (?, ?, ?, 0)`, [
        old.grantId,
        itemOf("SELECT"),
        `${hugo}@%`,
      ]);
      await grantSelect();
      const receipt = {
        mode: "privileges",
        account: `${hugo}@%`,
        privileges: ["SELECT"],
        on: onDatabase(),
        preexisting: false,
        items: [{ item: itemOf("SELECT"), preexisting: false, previous: null }],
      };
      await revoke(old, withReceipt ? receipt : null);
      expect(await fixture.canRead(hugo)).toBe(false);
      expect(
        await fixture.root(`SELECT 1 FROM ${legacyLedger()} WHERE grant_id = ? AND revoked_at IS NOT NULL`, [
          old.grantId,
        ]),
      ).toHaveLength(1);
    }
  });

  it("a retry of a grant the previous version recorded carries its row over and still counts the access as Sesame's", async () => {
    const ines = await fixture.requester("ines");
    const old = fixture.context(ines, privilegesTarget(["SELECT"]));
    await createLegacyLedger();
    await fixture.root(`INSERT INTO ${legacyLedger()} (grant_id, item, account, preexisting) VALUES (?, ?, ?, 0)`, [
      old.grantId,
      itemOf("SELECT"),
      `${ines}@%`,
    ]);
    await fixture.root(`GRANT SELECT ON ${id(escapedDatabase())}.* TO ${mysql.escape(ines)}@'%'`);
    const retried = await connector.grant(old);
    expect(retried.data).toMatchObject({ preexisting: false });
    expect(await fixture.root(`SELECT applied FROM ${ledger()} WHERE grant_id = ?`, [old.grantId])).toEqual([
      { applied: 1 },
    ]);
    await revoke(old, null);
    expect(await fixture.canRead(ines)).toBe(false);
  });

  it("a live grant of the previous version makes a new grant of the same item Sesame's (not preexisting), but does not hold it", async () => {
    const jan = await fixture.requester("jan");
    await createLegacyLedger();
    await fixture.root(
      `INSERT INTO ${legacyLedger()} (grant_id, item, account, preexisting) VALUES ('old-live', ?, ?, 0)`,
      [itemOf("SELECT"), `${jan}@%`],
    );
    await fixture.root(`GRANT SELECT ON ${id(escapedDatabase())}.* TO ${mysql.escape(jan)}@'%'`);
    const fresh = fixture.context(jan, privilegesTarget(["SELECT"]));
    const receipt = await connector.grant(fresh);
    expect(receipt.data).toMatchObject({ preexisting: false });
    await revoke(fresh, receipt.data);
    expect(await fixture.canRead(jan)).toBe(false);
  });
});
