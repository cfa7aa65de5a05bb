import { afterAll, beforeAll } from "vitest";
import { runConnectionCutCases } from "./connection-cut.js";
import { type CutProxy, startCutProxy } from "./cut-proxy.js";
import { createMysqlFixture, type MysqlFixture } from "./mysql-fixture.js";

/**
 * The mysql connector (role mode) talking to the local MariaDB through a TCP proxy that holds its
 * GRANT or REVOKE on the wire and then resets the connection. The lost connection also takes the
 * account's named lock with it, and the grant's ledger rows stay half written: the retry must
 * still end with exactly one role grant, or none after the revoke.
 */

let fixture: MysqlFixture;
let proxy: CutProxy;
let alice: string;
beforeAll(async () => {
  fixture = await createMysqlFixture("cut");
  alice = await fixture.requester("alice");
  const server = new URL(fixture.sesameUrl);
  proxy = await startCutProxy({ host: server.hostname, port: Number(server.port || 3306) });
});
afterAll(async () => {
  await proxy?.close();
  await fixture?.cleanup();
});

const proxiedUrl = () => {
  const url = new URL(fixture.sesameUrl);
  url.port = String(proxy.port);
  return url.toString();
};

runConnectionCutCases(
  "mysql (role), TCP reset",
  async () => ({
    connector: fixture.connector({ url: proxiedUrl() }, "mysql-cut"),
    makeContext: () => fixture.context(alice, { mode: "role", role: fixture.role }),
    hasAccess: (context) => fixture.canRead(context.principal),
    countAccess: async (context) =>
      (
        await fixture.root("SELECT 1 FROM mysql.roles_mapping WHERE User = ? AND Host = '%' AND Role = ?", [
          context.principal,
          fixture.role,
        ])
      ).length,
    holdNext: (action) => proxy.holdAt("toServer", action === "grant" ? "GRANT `" : "REVOKE `"),
    cut: async () => proxy.resetAll(),
    secrets: [...fixture.secrets, proxiedUrl()],
  }),
  { requires: "mariadb" },
);
