import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { kerberosConnectorDefinition } from "../../src/connectors/kerberos/kerberos-connector.js";
import { isAppError } from "../../src/domain/errors.js";
import { describeWith } from "../helpers/prerequisites.js";
import { expectNoSecret, runConnectorConformance } from "./conformance.js";
import { createKerberosFixture, type KerberosFixture } from "./kerberos-fixture.js";

/** The kerberos connector talking to a private realm's kadmind with a keytab (mode kadmin). */

let fixture: KerberosFixture;
beforeAll(async () => {
  fixture = await createKerberosFixture("kt");
});
afterAll(async () => {
  await fixture?.cleanup();
});

const MINUTE = 60_000;
let sequence = 0;
const target = (raw: Record<string, unknown> = {}) =>
  kerberosConnectorDefinition.targetSchema.parse({ instance: "admin", ...raw }) as Record<string, unknown>;
const context = (principal: string, minutes = 20, raw: Record<string, unknown> = {}): GrantContext => ({
  grantId: `grant-${++sequence}`,
  principal,
  target: target(raw),
  expiresAt: new Date(Date.now() + minutes * MINUTE),
});
const kerberos = (config: Record<string, unknown> = {}, name = "krb-test"): Connector =>
  kerberosConnectorDefinition.create(
    kerberosConnectorDefinition.configSchema.parse({
      realm: fixture.realm,
      adminServer: fixture.adminServer,
      adminPrincipal: "admin/admin",
      keytab: fixture.keytab("admin"),
      krb5Config: fixture.krb5Config,
      ...config,
    }),
    { name, secrets: [] },
  );
/** `getprinc -terse` fields: expiration, max life and max renewable life, read by the administrator. */
async function principalLimits(principal: string) {
  const fields = (await fixture.local(["getprinc", "-terse", principal])).trim().split("\t").map(Number);
  return { expiration: fields[1]!, maxLife: fields[4]!, maxRenewableLife: fields[11]! };
}
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail("expected a failure"),
    (error: unknown) => error,
  );

let users: string[] = [];
runConnectorConformance(
  "kerberos (kadmin with keytab)",
  async () => {
    users = await Promise.all(Array.from({ length: 8 }, () => fixture.addUser("conf")));
    return {
      connector: kerberos(),
      makeContext: () => context(users.shift()!),
      hasAccess: (grant) => fixture.canLogIn(grant.principal),
      removeOutOfBand: async (grant) => {
        await fixture.local(["delprinc", "-force", grant.principal]);
      },
      secrets: fixture.secrets,
      breakConnector: async () => kerberos({ adminServer: "127.0.0.1:1" }, "krb-unreachable"),
      makeFailingContext: () => context("ghost/admin"),
    };
  },
  { brokenConnector: true, failingContext: true, requires: "kerberos" },
);

describeWith("kerberos", "kerberos connector, kadmin with keytab", () => {
  let connector: Connector;
  beforeAll(() => {
    connector = kerberos();
  });

  it("refuses kinit before the grant, allows it during with a ticket ending by the grant's expiry, refuses it after", async () => {
    const alice = await fixture.addUser("alice");
    const grant = context(alice, 20);
    expect(await fixture.kinit(alice)).toMatchObject({ ok: false, reason: expect.stringMatching(/revoked/) });

    const receipt = await connector.grant(grant);
    const expiresAt = new Date(Math.floor(grant.expiresAt.getTime() / 1000) * 1000);
    expect(receipt.data).toEqual({
      principal: `${alice}@${fixture.realm}`,
      preexisting: false,
      principalExpiresAt: expiresAt.toISOString(),
      maxTicketLifeSeconds: expect.any(Number),
      ticketsEndBy: expect.any(String),
    });
    expect(receipt.data.maxTicketLifeSeconds).toBeLessThanOrEqual(20 * 60);
    expect(await principalLimits(alice)).toMatchObject({ expiration: expiresAt.getTime() / 1000, maxRenewableLife: 0 });

    const ticket = await fixture.kinit(alice);
    if (!ticket.ok) throw new Error(ticket.reason);
    // The ticket life starts when kinit runs, to the second: the receipt's bound is the promise.
    expect(ticket.endsAt.getTime()).toBeLessThanOrEqual(Date.parse(receipt.data.ticketsEndBy as string));
    expect(ticket.endsAt.getTime() - ticket.startsAt.getTime()).toBeLessThanOrEqual(
      (receipt.data.maxTicketLifeSeconds as number) * 1000,
    );
    expect((ticket.renewUntil ?? ticket.startsAt).getTime()).toBeLessThanOrEqual(ticket.startsAt.getTime());
    expect(await connector.verifyRevoked?.({ ...grant, receipt: receipt.data })).toBe(false);

    await connector.revoke({ ...grant, receipt: receipt.data });
    expect(await fixture.kinit(alice)).toMatchObject({ ok: false, reason: expect.stringMatching(/revoked/) });
    expect(await connector.verifyRevoked?.({ ...grant, receipt: receipt.data })).toBe(true);
  });

  it("caps the ticket life at the target's maxTicketLifeSeconds", async () => {
    const bob = await fixture.addUser("bob");
    const grant = context(bob, 180, { maxTicketLifeSeconds: 600 });
    const receipt = await connector.grant(grant);
    expect(receipt.data.maxTicketLifeSeconds).toBe(600);
    const ticket = await fixture.kinit(bob);
    if (!ticket.ok) throw new Error(ticket.reason);
    expect(ticket.endsAt.getTime() - ticket.startsAt.getTime()).toBeLessThanOrEqual(600_000);
    await connector.revoke({ ...grant, receipt: receipt.data });
  });

  it("leaves a principal that an administrator enabled by hand alone", async () => {
    const carol = await fixture.addUser("carol");
    await fixture.local(["modprinc", "+allow_tix", carol]);
    const grant = context(carol);
    const receipt = await connector.grant(grant);
    expect(receipt.data).toEqual({ principal: `${carol}@${fixture.realm}`, preexisting: true });
    await connector.revoke({ ...grant, receipt: receipt.data });
    await connector.revoke({ ...grant, receipt: null });
    expect(await fixture.canLogIn(carol)).toBe(true);
    expect(await connector.verifyRevoked?.({ ...grant, receipt: null })).toBe(true);
  });

  it("never shortens an overlapping grant of the same principal, and a retry re-applies the same limits", async () => {
    const dave = await fixture.addUser("dave");
    const long = context(dave, 120);
    const short = context(dave, 10);
    const longReceipt = await connector.grant(long);
    const shortReceipt = await connector.grant(short);
    expect(shortReceipt.data.principalExpiresAt).toBe(longReceipt.data.principalExpiresAt);
    expect((await principalLimits(dave)).expiration * 1000).toBe(
      Date.parse(longReceipt.data.principalExpiresAt as string),
    );
    await connector.grant(long);
    expect(await fixture.canLogIn(dave)).toBe(true);
    await connector.revoke({ ...long, receipt: longReceipt.data });
    expect(await fixture.canLogIn(dave)).toBe(false);
  });

  it("moves the principal's expiry when the grant is extended, but never re-enables one disabled meanwhile", async () => {
    const frank = await fixture.addUser("frank");
    const grant = context(frank, 20);
    const receipt = await connector.grant(grant);
    const later = new Date(Math.floor((grant.expiresAt.getTime() + 40 * MINUTE) / 1000) * 1000);
    const extended = await connector.extend!({ ...grant, expiresAt: later, receipt: receipt.data });
    expect(extended).toMatchObject({ data: { principalExpiresAt: later.toISOString() } });
    expect((await principalLimits(frank)).expiration * 1000).toBe(later.getTime());

    await fixture.local(["modprinc", "-allow_tix", frank]);
    expect(
      await connector.extend!({ ...grant, expiresAt: new Date(later.getTime() + 10 * MINUTE), receipt: receipt.data }),
    ).toBeUndefined();
    expect(await fixture.canLogIn(frank)).toBe(false);
    await connector.revoke({ ...grant, receipt: receipt.data });
  });

  it("revokes after an administrator already disabled the principal", async () => {
    const erin = await fixture.addUser("erin");
    const grant = context(erin);
    const receipt = await connector.grant(grant);
    await fixture.local(["modprinc", "-allow_tix", erin]);
    await connector.revoke({ ...grant, receipt: receipt.data });
    expect(await connector.verifyRevoked?.({ ...grant, receipt: receipt.data })).toBe(true);
    expect(await fixture.canLogIn(erin)).toBe(false);
  });

  it("refuses a principal that does not exist and does not create it", async () => {
    const error = await failure(connector.grant(context("nobody/admin")));
    expect(error).toMatchObject({
      code: "connector_failed",
      userMessage: expect.stringMatching(/nobody\/admin@.* does not exist on the KDC.*addprinc -allow_tix/),
    });
    await expect(fixture.local(["getprinc", "nobody/admin"])).rejects.toThrow(/does not exist/);
  });

  it("refuses hostile or out-of-scope principal names before running kadmin", async () => {
    // A kadmin that cannot start: reaching it would fail with "not found" instead.
    const guarded = kerberos({ command: "/nonexistent/kadmin" });
    const names = [
      'alice" -allow_tix',
      "alice admin",
      "alice\n/admin",
      "-alice/admin",
      "alice/admin;rm",
      "krbtgt/admin",
      "K/M",
      "a/b/c",
      `alice/admin@OTHER.TEST`,
      "alice/root",
      "alice",
    ];
    for (const name of names) {
      const error = await failure(guarded.grant(context(name)));
      expect(isAppError(error) && error.userMessage).toMatch(/cannot use principal/);
    }
    expect(await failure(guarded.grant(context("alice/admin")))).toMatchObject({
      userMessage: expect.stringMatching(/"\/nonexistent\/kadmin" was not found/),
    });
  });

  it("refuses a grant that has already expired", async () => {
    const frank = await fixture.addUser("frank");
    const error = await failure(connector.grant({ ...context(frank), expiresAt: new Date(Date.now() - MINUTE) }));
    expect(error).toMatchObject({ code: "connector_failed", userMessage: expect.stringMatching(/expired/) });
    expect(await fixture.canLogIn(frank)).toBe(false);
  });

  it("check() passes with least privilege and names each missing right, unreadable keytab or unreachable server", async () => {
    const targets = [target()];
    expect(await connector.check({ targets })).toEqual({ ok: true, problems: [] });
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { adminPrincipal: "weak/admin", keytab: fixture.keytab("weak") },
        /lacks the kadm5\.acl right m \(modify\) on principals like \*\/admin@.*: add "weak\/admin@\S+ im \*\/admin@/,
      ],
      [
        { adminPrincipal: "none/admin", keytab: fixture.keytab("none") },
        /lacks the kadm5\.acl rights i \(inquire\) and m \(modify\)/,
      ],
      [{ keytab: fixture.keytab("weak") }, /cannot log in to kadmind: .*Keytab contains no suitable keys.*ktadd/],
      [{ keytab: `${fixture.keytab("admin")}.missing` }, /cannot read the keytab file .*ENOENT/],
      [{ adminServer: "127.0.0.1:1" }, /cannot log in to kadmind: .*Communication failure.*adminServer/],
    ];
    for (const [config, problem] of cases) {
      const result = await kerberos(config).check({ targets });
      expect(result.ok).toBe(false);
      expect(result.problems.join("\n")).toMatch(problem);
      expectNoSecret(result.problems, fixture.secrets);
    }
    expect((await connector.check({ targets: [{ instance: "bad instance" }] })).problems.join("\n")).toMatch(
      /target 1\.instance/,
    );
  });

  it("reports an unreachable kadmind on grant in words, with the setting to check", async () => {
    const error = await failure(kerberos({ adminServer: "127.0.0.1:1" }, "krb-broken").grant(context("alice/admin")));
    expect(error).toMatchObject({
      code: "connector_failed",
      userMessage: expect.stringMatching(/krb-broken.*could not grant access.*Communication failure.*adminServer/),
    });
  });

  it("validates its config: keytab mode needs a keytab, names are checked", () => {
    const parse = (config: Record<string, unknown>) =>
      kerberosConnectorDefinition.configSchema.safeParse(config).success;
    expect(parse({ realm: "EXAMPLE.COM", adminPrincipal: "sesame/kadmin", keytab: "/etc/sesame.keytab" })).toBe(true);
    expect(parse({ mode: "kadmin.local", realm: "EXAMPLE.COM" })).toBe(true);
    expect(parse({ realm: "EXAMPLE.COM", adminPrincipal: "sesame/kadmin" })).toBe(false);
    expect(
      parse({ realm: "EXAMPLE.COM", adminPrincipal: "sesame/kadmin", keytab: "/k", adminServer: "kdc -q x" }),
    ).toBe(false);
    expect(parse({ realm: "EXAMPLE COM", mode: "kadmin.local" })).toBe(false);
    expect(parse({ realm: "EXAMPLE.COM", adminPrincipal: '"x"', keytab: "/k" })).toBe(false);
  });
});
