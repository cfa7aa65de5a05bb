import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { kerberosConnectorDefinition } from "../../src/connectors/kerberos/kerberos-connector.js";
import { describeWith } from "../helpers/prerequisites.js";
import { expectNoSecret, runConnectorConformance } from "./conformance.js";
import { createKerberosFixture, type KerberosFixture } from "./kerberos-fixture.js";

/** The kerberos connector on the KDC host itself (mode kadmin.local), against a private realm. */

let fixture: KerberosFixture;
beforeAll(async () => {
  fixture = await createKerberosFixture("local");
});
afterAll(async () => {
  await fixture?.cleanup();
});

let sequence = 0;
const context = (principal: string): GrantContext => ({
  grantId: `grant-${++sequence}`,
  principal,
  target: kerberosConnectorDefinition.targetSchema.parse({ instance: "admin" }) as Record<string, unknown>,
  expiresAt: new Date(Date.now() + 15 * 60_000),
});
const kerberosLocal = (config: Record<string, unknown> = {}, name = "krb-local"): Connector =>
  kerberosConnectorDefinition.create(
    kerberosConnectorDefinition.configSchema.parse({
      mode: "kadmin.local",
      realm: fixture.realm,
      command: "/usr/sbin/kadmin.local",
      krb5Config: fixture.krb5Config,
      kdcProfile: fixture.kdcProfile,
      ...config,
    }),
    { name, secrets: [] },
  );

let users: string[] = [];
runConnectorConformance(
  "kerberos (kadmin.local)",
  async () => {
    users = await Promise.all(Array.from({ length: 8 }, () => fixture.addUser("conf")));
    return {
      connector: kerberosLocal(),
      makeContext: () => context(users.shift()!),
      hasAccess: (grant) => fixture.canLogIn(grant.principal),
      removeOutOfBand: async (grant) => {
        await fixture.local(["modprinc", "-allow_tix", grant.principal]);
      },
      secrets: fixture.secrets,
      breakConnector: async () => kerberosLocal({ kdcProfile: `${fixture.kdcProfile}.missing` }, "krb-local-broken"),
      makeFailingContext: () => context("ghost/admin"),
    };
  },
  { brokenConnector: true, failingContext: true, requires: "kerberos" },
);

describeWith("kerberos", "kerberos connector, kadmin.local", () => {
  it("refuses kinit before the grant, allows it during with a bounded ticket, refuses it after", async () => {
    const connector = kerberosLocal();
    const alice = await fixture.addUser("alice");
    const grant = context(alice);
    expect(await fixture.canLogIn(alice)).toBe(false);
    const receipt = await connector.grant(grant);
    const ticket = await fixture.kinit(alice);
    if (!ticket.ok) throw new Error(ticket.reason);
    // The KDC starts the ticket life when kinit runs (to the second), not at the grant: the bound
    // Sesame promises is the receipt's, not the grant's expiry.
    expect(ticket.endsAt.getTime()).toBeLessThanOrEqual(Date.parse(receipt.data.ticketsEndBy as string));
    expect(ticket.endsAt.getTime() - ticket.startsAt.getTime()).toBeLessThanOrEqual(
      (receipt.data.maxTicketLifeSeconds as number) * 1000,
    );
    await connector.revoke({ ...grant, receipt: receipt.data });
    expect(await fixture.canLogIn(alice)).toBe(false);
  });

  it("check() passes on the KDC host and explains a database it cannot open", async () => {
    expect(await kerberosLocal().check({ targets: [{ instance: "admin" }] })).toEqual({ ok: true, problems: [] });
    const result = await kerberosLocal({ kdcProfile: `${fixture.kdcProfile}.missing` }).check();
    expect(result.ok).toBe(false);
    expect(result.problems.join("\n")).toMatch(/cannot open the KDC database: .*Cannot open DB2 database.*kdcProfile/);
    expectNoSecret(result.problems, fixture.secrets);
  });
});
