import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { postgresConnectorDefinition } from "../../src/connectors/postgres/postgres-connector.js";
import { scramSha256Verifier } from "../../src/connectors/postgres/scram-verifier.js";
import { validateTarget } from "../../src/connectors/registry.js";
import { runConnectorConformance } from "./conformance.js";
import { createPostgresFixture, type PostgresFixture } from "./postgres-fixture.js";

/** The postgres connector in login-role mode, against the real local PostgreSQL. */

let fixture: PostgresFixture;
beforeAll(async () => {
  fixture = await createPostgresFixture("pgl");
});
afterAll(async () => {
  await fixture?.cleanup();
});

let sequence = 0;
const loginRoleContext = (principal = fixture.role(`temp${++sequence}`)): GrantContext => ({
  grantId: `grant-${++sequence}`,
  principal,
  target: validateTarget("postgres", { mode: "login-role", memberOf: [fixture.role("reader")] }),
  expiresAt: new Date(Date.now() + 3_600_000),
});
const postgres = (url: string, name = "pg-login"): Connector =>
  postgresConnectorDefinition.create(postgresConnectorDefinition.configSchema.parse({ url }), { name, secrets: [url] });

async function roleRow(
  name: string,
): Promise<
  { rolcanlogin: boolean; rolvaliduntil: Date | null; rolpassword: string | null; member: boolean } | undefined
> {
  const result = await fixture.superuser(
    `SELECT rolcanlogin, rolvaliduntil, rolpassword, pg_has_role(oid, $2, 'MEMBER') AS member FROM pg_authid WHERE rolname = $1`,
    [name, fixture.role("reader")],
  );
  return result.rows[0];
}

runConnectorConformance(
  "postgres (login-role)",
  async () => ({
    connector: postgres(fixture.creatorUrl),
    makeContext: () => loginRoleContext(),
    hasAccess: (context) => fixture.canConnect(context.principal),
    countAccess: async (context) => ((await roleRow(context.principal))?.rolcanlogin ? 1 : 0),
    removeOutOfBand: async (context) => {
      await fixture.superuser(`DROP ROLE "${context.principal}"`);
    },
    secrets: fixture.secrets,
    breakConnector: async () => postgres(fixture.urlFor(fixture.role("ghost"), fixture.secrets[3]), "pg-ghost"),
    makeFailingContext: () => ({ ...loginRoleContext(), target: { mode: "login-role", memberOf: ["no_such_role"] } }),
  }),
  { brokenConnector: true, failingContext: true },
);

describe("postgres connector, login-role mode", () => {
  let connector: Connector;
  beforeAll(() => {
    connector = postgres(fixture.creatorUrl);
  });
  afterAll(async () => {
    await connector?.close?.();
  });

  it("creates a login role with a generated password valid until the grant expires, and drops it on revoke", async () => {
    const context = loginRoleContext();
    expect(await fixture.canConnect(context.principal)).toBe(false);
    const receipt = await connector.grant(context);
    const password = receipt.secret?.password ?? "";
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(receipt.data).toMatchObject({
      mode: "login-role",
      role: context.principal,
      validUntil: context.expiresAt.toISOString(),
    });

    const row = await roleRow(context.principal);
    expect(row).toMatchObject({ rolcanlogin: true, member: true });
    expect(row?.rolvaliduntil?.getTime()).toBe(context.expiresAt.getTime());
    // pg_hba here is trust, so prove the password by recomputing the stored verifier from it.
    const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(row?.rolpassword ?? "") ?? [];
    expect(scramSha256Verifier(password, Buffer.from(salt ?? "", "base64"), Number(iterations))).toBe(row?.rolpassword);
    expect(await fixture.canConnect(context.principal)).toBe(true);

    await connector.revoke({ ...context, receipt: receipt.data });
    expect(await roleRow(context.principal)).toBeUndefined();
    expect(await fixture.canConnect(context.principal)).toBe(false);
  });

  it("moves VALID UNTIL when the grant is extended, keeping the password", async () => {
    const grant = loginRoleContext();
    const receipt = await connector.grant(grant);
    const later = new Date(grant.expiresAt.getTime() + 3_600_000);
    const extended = await connector.extend!({ ...grant, expiresAt: later, receipt: receipt.data });
    expect(extended).toMatchObject({ data: { mode: "login-role", validUntil: later.toISOString() } });
    expect(extended && "secret" in extended).toBe(false);
    expect((await roleRow(grant.principal))?.rolvaliduntil?.getTime()).toBe(later.getTime());
    await connector.revoke({ ...grant, receipt: receipt.data });
    expect(await connector.extend!({ ...grant, expiresAt: later, receipt: receipt.data })).toBeUndefined();
    expect(await roleRow(grant.principal)).toBeUndefined();
  });

  it("ends the login role's open sessions on revoke", async () => {
    const context = loginRoleContext();
    const receipt = await connector.grant(context);
    const session = await fixture.openSession(context.principal);
    await connector.revoke({ ...context, receipt: receipt.data });
    await expect(session.query("SELECT 1")).rejects.toThrow();
    await session.end().catch(() => undefined);
  });

  it("refuses to take over or drop a role it did not create", async () => {
    const alice = fixture.role("alice");
    const context = loginRoleContext(alice);
    await expect(connector.grant(context)).rejects.toMatchObject({
      code: "connector_failed",
      userMessage: expect.stringMatching(/already exists .* will not take it over/),
    });
    await connector.revoke({ ...context, receipt: null });
    expect(await roleRow(alice)).toMatchObject({ rolcanlogin: true, member: false });
  });

  it("keeps a role that owns objects, locked and without memberships, instead of failing the revoke", async () => {
    const context = loginRoleContext();
    const receipt = await connector.grant(context);
    await fixture.superuser(
      `CREATE TABLE "${context.principal}_notes" (id int); ALTER TABLE "${context.principal}_notes" OWNER TO "${context.principal}"`,
    );
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(await roleRow(context.principal)).toMatchObject({ rolcanlogin: false, rolpassword: null, member: false });
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
    expect(await fixture.canConnect(context.principal)).toBe(false);
  });

  it("check() passes for a CREATEROLE account and flags one without it", async () => {
    const targets = [validateTarget("postgres", { mode: "login-role", memberOf: [fixture.role("reader")] })];
    expect(await connector.check({ targets })).toEqual({ ok: true, problems: [] });
    const granter = postgres(fixture.granterUrl, "pg-granter");
    try {
      expect((await granter.check({ targets })).problems).toEqual([expect.stringMatching(/cannot create login roles/)]);
    } finally {
      await granter.close?.();
    }
  });
});

describe("scramSha256Verifier", () => {
  it("produces what PostgreSQL itself stores for the same password and salt", async () => {
    const name = fixture.role("scram");
    await fixture.superuser(
      `SET password_encryption = 'scram-sha-256'; CREATE ROLE "${name}" PASSWORD 'correct horse battery staple'`,
    );
    const stored = (await roleRow(name))?.rolpassword ?? "";
    const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored) ?? [];
    expect(
      scramSha256Verifier("correct horse battery staple", Buffer.from(salt ?? "", "base64"), Number(iterations)),
    ).toBe(stored);
  });
});
