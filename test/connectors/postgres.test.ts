import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { runPostgresAction } from "../../src/connectors/postgres/postgres-action-executor.js";
import { postgresConnectorDefinition } from "../../src/connectors/postgres/postgres-connector.js";
import { validateTarget } from "../../src/connectors/registry.js";
import { isAppError } from "../../src/domain/errors.js";
import { adminQuery } from "../helpers/database.js";
import { type ActionSubject, expectNoSecret, runConnectorConformance } from "./conformance.js";
import { createPostgresFixture, type PostgresFixture } from "./postgres-fixture.js";

/** The postgres connector in membership mode, against the real local PostgreSQL. */

let fixture: PostgresFixture;
beforeAll(async () => {
  fixture = await createPostgresFixture("pgm");
});
afterAll(async () => {
  await fixture?.cleanup();
});

let sequence = 0;
const membershipContext = (principal: string, target: Record<string, unknown> = {}): GrantContext => ({
  grantId: `grant-${++sequence}`,
  principal,
  target: validateTarget("postgres", { role: fixture.role("reader"), ...target }),
  expiresAt: new Date(Date.now() + 3_600_000),
});
const postgres = (url: string, name = "pg-test"): Connector =>
  postgresConnectorDefinition.create(postgresConnectorDefinition.configSchema.parse({ url }), { name, secrets: [url] });

async function membershipCount(principal: string): Promise<number> {
  const result = await fixture.superuser(
    `SELECT count(*)::int AS n FROM pg_auth_members WHERE roleid = $1::regrole AND member = $2::regrole`,
    [fixture.role("reader"), principal],
  );
  return (result.rows[0] as { n: number }).n;
}

/** An executor login in the reader role, and a counter table the role may update (JIT actions). */
async function postgresActions(): Promise<ActionSubject> {
  const q = (name: string) => pg.escapeIdentifier(name);
  const reader = fixture.role("reader");
  const executor = fixture.role("exec");
  await adminQuery(`CREATE ROLE ${q(executor)} LOGIN PASSWORD 'exec-pw' IN ROLE ${q(reader)}`);
  await fixture.superuser(`CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL)`);
  await fixture.superuser(`INSERT INTO counter VALUES (1, 0)`);
  await fixture.superuser(`GRANT SELECT, UPDATE ON counter TO ${q(reader)}`);
  const server = new URL(fixture.granterUrl);
  return {
    run: (spec, port) => runPostgresAction({ url: fixture.urlFor(executor, "exec-pw", port), role: reader, spec }),
    increment: "UPDATE counter SET n = n + 1 WHERE id = 1",
    counter: async () => (await fixture.superuser("SELECT n FROM counter WHERE id = 1")).rows[0].n as number,
    server: { host: server.hostname, port: Number(server.port || 5432) },
  };
}

runConnectorConformance(
  "postgres (membership)",
  async () => ({
    connector: postgres(fixture.granterUrl),
    makeContext: () => membershipContext(fixture.role("alice")),
    hasAccess: (context) => fixture.canConnect(context.principal),
    countAccess: (context) => membershipCount(context.principal),
    removeOutOfBand: async (context) => {
      await fixture.superuser(`REVOKE "${fixture.role("reader")}" FROM "${context.principal}"`);
    },
    secrets: fixture.secrets,
    breakConnector: async () => postgres(fixture.granterUrl.replace(/:\d+\//, ":1/"), "pg-unreachable"),
    makeFailingContext: () => membershipContext(fixture.role("nobody")),
    actions: await postgresActions(),
  }),
  { brokenConnector: true, failingContext: true, actions: true },
);

describe("postgres connector, membership mode", () => {
  let connector: Connector;
  beforeAll(() => {
    connector = postgres(fixture.granterUrl);
  });
  afterAll(async () => {
    await connector?.close?.();
  });

  it("refuses the requester's login before the grant, allows it during, refuses it after", async () => {
    const alice = fixture.role("alice");
    const context = membershipContext(alice);
    expect(await fixture.canConnect(alice)).toBe(false);
    const receipt = await connector.grant(context);
    expect(receipt).toEqual({
      data: { mode: "membership", role: fixture.role("reader"), principal: alice, preexisting: false },
    });
    expect(await fixture.canConnect(alice)).toBe(true);
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(await fixture.canConnect(alice)).toBe(false);
  });

  it("ends the requester's open sessions on revoke, including one that did SET ROLE", async () => {
    const context = membershipContext(fixture.role("alice"));
    const receipt = await connector.grant(context);
    const session = await fixture.openSession(fixture.role("alice"));
    await session.query(`SET ROLE "${fixture.role("reader")}"`);
    await connector.revoke({ ...context, receipt: receipt.data });
    await expect(session.query("SELECT 1")).rejects.toThrow();
    await session.end().catch(() => undefined);
  });

  it("leaves open sessions alone when terminateSessions is false", async () => {
    const context = membershipContext(fixture.role("alice"), { terminateSessions: false });
    const receipt = await connector.grant(context);
    const session = await fixture.openSession(fixture.role("alice"));
    await connector.revoke({ ...context, receipt: receipt.data });
    await expect(session.query("SELECT 1")).resolves.toBeDefined();
    await session.end();
  });

  it("never revokes a membership the principal had before Sesame's grant", async () => {
    const bob = fixture.role("bob");
    await fixture.superuser(`GRANT "${fixture.role("reader")}" TO "${bob}"`);
    const context = membershipContext(bob);
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({ preexisting: true });
    await connector.revoke({ ...context, receipt: receipt.data });
    await connector.revoke({ ...context, receipt: null });
    expect(await membershipCount(bob)).toBe(1);
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
    await fixture.superuser(`REVOKE "${fixture.role("reader")}" FROM "${bob}"`);
  });

  it("names a missing role or principal in words an operator can act on", async () => {
    const missingRole = {
      ...membershipContext(fixture.role("alice")),
      target: { mode: "membership", role: "no_such_role", terminateSessions: true },
    };
    await expect(connector.grant(missingRole)).rejects.toMatchObject({
      code: "connector_failed",
      userMessage: expect.stringMatching(/Role "no_such_role" does not exist/),
    });
    await expect(connector.grant(membershipContext(fixture.role("nobody")))).rejects.toMatchObject({
      userMessage: expect.stringMatching(/principal ".*_nobody" has no role on the target/),
    });
    await expect(connector.grant({ ...membershipContext("x"), target: { mode: "membership" } })).rejects.toMatchObject({
      code: "config_invalid",
    });
  });

  it("check() passes for the least-privilege account and names each missing privilege otherwise", async () => {
    const targets = [validateTarget("postgres", { role: fixture.role("reader") })];
    expect(await connector.check({ targets })).toEqual({ ok: true, problems: [] });

    const weak = fixture.role("weak");
    await fixture.superuser(
      `CREATE ROLE "${weak}" LOGIN; GRANT CONNECT ON DATABASE "${fixture.databaseName}" TO "${weak}"`,
    );
    const weakConnector = postgres(fixture.urlFor(weak, "weak-password-123"));
    try {
      const result = await weakConnector.check({
        targets: [...targets, validateTarget("postgres", { mode: "login-role" }), { role: "no_such_role" }],
      });
      expect(result.ok).toBe(false);
      expect(result.problems.join("\n")).toMatch(/cannot grant role ".*_reader": run GRANT .* WITH ADMIN OPTION/);
      expect(result.problems.join("\n")).toMatch(/cannot end sessions on revoke: run GRANT pg_signal_backend/);
      expect(result.problems.join("\n")).toMatch(/cannot create login roles: run ALTER ROLE .* CREATEROLE/);
      expect(result.problems.join("\n")).toMatch(/role "no_such_role" does not exist/);
      expectNoSecret(result.problems, ["weak-password-123"]);
    } finally {
      await weakConnector.close?.();
    }
  });

  it("reports an unreachable server or unknown account without the password", async () => {
    const cases = [
      {
        url: fixture.urlFor(fixture.role("granter"), "S3cret/p@ss:word", 1),
        reason: /ECONNREFUSED/,
        hint: /host and port/,
      },
      {
        url: fixture.urlFor(fixture.role("ghost"), "S3cret/p@ss:word"),
        reason: /does not exist/,
        hint: /user and password/,
      },
    ];
    for (const { url, reason, hint } of cases) {
      const broken = postgres(url, "pg-broken");
      try {
        const error = await broken.grant(membershipContext(fixture.role("alice"))).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
        expect(error.code).toBe("connector_failed");
        expect(error.userMessage).toMatch(reason);
        expect(error.userMessage).toMatch(hint);
        expectNoSecret(
          [error.message, error.userMessage, error.stack ?? "", JSON.stringify(error)],
          [url, "S3cret/p@ss:word"],
        );
        const check = await broken.check();
        expect(check.ok).toBe(false);
        expectNoSecret(check.problems, [url, "S3cret/p@ss:word"]);
      } finally {
        await broken.close?.();
      }
    }
  });
});
