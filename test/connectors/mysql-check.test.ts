import mysql from "mysql2/promise";
import { afterAll, beforeAll, expect, it } from "vitest";
import { MysqlConfigSchema, MysqlTargetSchema } from "../../src/connectors/mysql/mysql-config.js";
import { isAppError } from "../../src/domain/errors.js";
import { describeWith } from "../helpers/prerequisites.js";
import { expectNoSecret } from "./conformance.js";
import { createMysqlFixture, type MysqlFixture } from "./mysql-fixture.js";

/** check(), error texts and input validation of the mysql connector, against the real local MariaDB. */

let fixture: MysqlFixture;
beforeAll(async () => {
  fixture = await createMysqlFixture("chk");
});
afterAll(async () => {
  await fixture?.cleanup();
});

const WEAK_PASSWORD = "weak'pass\\word-123";

describeWith("mariadb", "mysql connector: check()", () => {
  it("passes for the least-privilege account, for both kinds of target", async () => {
    const connector = fixture.connector();
    try {
      const targets = [
        MysqlTargetSchema.parse({ mode: "role", role: fixture.role }),
        MysqlTargetSchema.parse({ mode: "privileges", privileges: ["SELECT", "INSERT"], on: `${fixture.database}.*` }),
        MysqlTargetSchema.parse({ mode: "privileges", privileges: ["SELECT"], on: `${fixture.database}.items` }),
      ];
      expect(await connector.check({ targets })).toEqual({ ok: true, problems: [] });
    } finally {
      await connector.close?.();
    }
  });

  it("works through the server's Unix socket", async () => {
    const connector = fixture.connector({ url: fixture.sesameSocketUrl }, "mysql-socket");
    try {
      expect(await connector.check({ targets: [{ mode: "role", role: fixture.role }] })).toEqual({
        ok: true,
        problems: [],
      });
      const dave = await fixture.requester("dave");
      const context = fixture.context(dave, { mode: "role", role: fixture.role });
      const receipt = await connector.grant(context);
      expect(await fixture.canRead(dave)).toBe(true);
      await connector.revoke({ ...context, receipt: receipt.data });
      expect(await fixture.canRead(dave)).toBe(false);
    } finally {
      await connector.close?.();
    }
  });

  it("names each missing privilege and the statement that grants it", async () => {
    const weak = `${fixture.prefix}_weak`;
    await fixture.root(`CREATE USER ${mysql.escape(weak)}@'%' IDENTIFIED BY ${mysql.escape(WEAK_PASSWORD)}`);
    const url = fixture.urlFor(weak, WEAK_PASSWORD);
    const connector = fixture.connector({ url }, "mysql-weak");
    try {
      const result = await connector.check({
        targets: [
          { mode: "role", role: fixture.role },
          { mode: "privileges", privileges: ["SELECT"], on: `${fixture.database}.*` },
          { mode: "privileges", privileges: ["EXECUTE"], on: "db.table" },
        ],
      });
      expect(result.ok).toBe(false);
      const text = result.problems.join("\n");
      expect(text).toMatch(/cannot use its ledger table .*GRANT CREATE, SELECT, INSERT, UPDATE, DELETE ON/);
      expect(text).toMatch(/cannot read mysql\.user: run GRANT SELECT \(User, Host, default_role\) ON mysql\.user/);
      expect(text).toMatch(/cannot read mysql\.roles_mapping/);
      expect(text).toMatch(/run GRANT PROCESS ON \*\.\*/);
      expect(text).toMatch(/run GRANT CONNECTION ADMIN ON \*\.\*/);
      expect(text).toMatch(/cannot grant role ".*_reader".*WITH ADMIN OPTION/);
      expect(text).toMatch(/cannot set default roles: run GRANT UPDATE ON mysql\.\*/);
      expect(text).toMatch(
        /cannot grant SELECT on .*_db\.\*: run GRANT SELECT ON `.*\\_db`\.\* TO .* WITH GRANT OPTION/,
      );
      expect(text).toMatch(/target 3\.privileges: EXECUTE cannot be granted on a single table/);
      expectNoSecret(result.problems, [url, WEAK_PASSWORD]);
    } finally {
      await connector.close?.();
      await fixture.root(`DROP USER ${mysql.escape(weak)}@'%'`);
    }
  });

  it("reports an unreachable server or a wrong password without the password", async () => {
    const password = "S3cret/p@ss:word";
    const cases = [
      { url: fixture.urlFor(`${fixture.prefix}_sesame`, password, 1), reason: /ECONNREFUSED/, hint: /host and port/ },
      { url: fixture.urlFor(`${fixture.prefix}_sesame`, password), reason: /Access denied/, hint: /user and password/ },
    ];
    for (const { url, reason, hint } of cases) {
      const broken = fixture.connector({ url }, "mysql-broken");
      try {
        const error = await broken.grant(fixture.context("someone", { mode: "role", role: fixture.role })).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
        expect(error.code).toBe("connector_failed");
        expect(error.userMessage).toMatch(reason);
        expect(error.userMessage).toMatch(hint);
        expectNoSecret([error.message, error.userMessage, error.stack ?? "", JSON.stringify(error)], [url, password]);
        const check = await broken.check();
        expect(check.ok).toBe(false);
        expectNoSecret(check.problems, [url, password]);
      } finally {
        await broken.close?.();
      }
    }
  });
});

describeWith("mariadb", "mysql connector: input validation", () => {
  it.each([
    [{ mode: "privileges", privileges: ["SELECT"], on: "db.*; DROP DATABASE x" }],
    [{ mode: "privileges", privileges: ["SELECT"], on: "*.*" }],
    [{ mode: "privileges", privileges: ["SELECT"], on: "db%.*" }],
    [{ mode: "privileges", privileges: ["SELECT"], on: "`db`.*" }],
    [{ mode: "privileges", privileges: ["ALL"], on: "db.*" }],
    [{ mode: "privileges", privileges: ["GRANT OPTION"], on: "db.*" }],
    [{ mode: "privileges", privileges: ["SELECT, DROP"], on: "db.*" }],
    [{ mode: "privileges", privileges: [], on: "db.*" }],
    [{ mode: "role", role: "NONE" }],
    [{ mode: "role", role: "r`; DROP USER x" }],
    [{ role: "reader" }],
  ])("refuses target %j", (target) => {
    expect(MysqlTargetSchema.safeParse(target).success).toBe(false);
  });

  it("normalizes privilege names and accepts re-parsing its own output", () => {
    const parsed = MysqlTargetSchema.parse({
      mode: "privileges",
      privileges: ["select", " create   view ", "SELECT"],
      on: "app_db.orders",
    });
    expect(parsed).toEqual({ mode: "privileges", privileges: ["CREATE VIEW", "SELECT"], on: "app_db.orders" });
    expect(MysqlTargetSchema.parse(parsed)).toEqual(parsed);
  });

  it("refuses a url with driver options and an account host with quotes", () => {
    expect(MysqlConfigSchema.safeParse({ url: "mysql://u:p@h:3306/?multipleStatements=true" }).success).toBe(false);
    expect(MysqlConfigSchema.safeParse({ url: "mysql://u:p@h:3306", accountHost: "%' OR '1" }).success).toBe(false);
    expect(MysqlConfigSchema.parse({ url: "mysql://u:p@h/?socketPath=/run/mysqld/mysqld.sock" })).toMatchObject({
      accountHost: "%",
      ledgerDatabase: "sesame",
    });
  });

  it("refuses principals that are not plain user names, and Sesame's own account", async () => {
    const connector = fixture.connector();
    try {
      for (const principal of ["alice@example.com", "a'b", "", `${fixture.prefix}_sesame`]) {
        await expect(
          connector.grant(fixture.context(principal, { mode: "role", role: fixture.role })),
        ).rejects.toMatchObject({ code: "connector_failed" });
      }
    } finally {
      await connector.close?.();
    }
  });
});
