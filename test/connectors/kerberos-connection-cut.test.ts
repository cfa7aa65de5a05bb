import { afterAll, beforeAll } from "vitest";
import { kerberosConnectorDefinition } from "../../src/connectors/kerberos/kerberos-connector.js";
import { runConnectionCutCases } from "./connection-cut.js";
import { createHeldKadmin } from "./kadmin-hold.js";
import { createKerberosFixture, type KerberosFixture } from "./kerberos-fixture.js";

/**
 * The kerberos connector (kadmin with a keytab) against a private realm, its kadmin killed
 * mid-call (kadmin-hold.ts): the grant's modprinc after it enabled the principal (the answer is
 * lost), the revoke's modprinc before it ran.
 */

let fixture: KerberosFixture;
beforeAll(async () => {
  fixture = await createKerberosFixture("cut");
});
afterAll(async () => {
  await fixture?.cleanup();
});

let sequence = 0;
runConnectionCutCases(
  "kerberos (kadmin), kadmin killed",
  async () => {
    const kadmin = await createHeldKadmin("/usr/bin/kadmin");
    const users = await Promise.all([fixture.addUser("cut"), fixture.addUser("cut")]);
    const config = kerberosConnectorDefinition.configSchema.parse({
      realm: fixture.realm,
      adminServer: fixture.adminServer,
      adminPrincipal: "admin/admin",
      keytab: fixture.keytab("admin"),
      krb5Config: fixture.krb5Config,
      command: kadmin.command,
      // Far beyond the hold, so that the kill under test is the only thing that ends a held run.
      timeoutSeconds: 300,
    });
    return {
      connector: kerberosConnectorDefinition.create(config, { name: "krb-cut", secrets: [] }),
      makeContext: () => ({
        grantId: `grant-${++sequence}`,
        principal: users.shift()!,
        target: kerberosConnectorDefinition.targetSchema.parse({ instance: "admin" }) as Record<string, unknown>,
        expiresAt: new Date(Date.now() + 20 * 60_000),
      }),
      hasAccess: (context) => fixture.canLogIn(context.principal),
      holdNext: (action) =>
        action === "grant" ? kadmin.holdNext("+allow_tix", "answer-lost") : kadmin.holdNext("-allow_tix", "unanswered"),
      cut: () => kadmin.kill(),
      secrets: fixture.secrets,
      cleanup: () => kadmin.cleanup(),
    };
  },
  { requires: "kerberos" },
);
