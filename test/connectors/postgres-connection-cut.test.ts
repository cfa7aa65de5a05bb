import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { postgresConnectorDefinition } from "../../src/connectors/postgres/postgres-connector.js";
import { validateTarget } from "../../src/connectors/registry.js";
import { errorWhenCut, expectRetryableFailure, runConnectionCutCases } from "./connection-cut.js";
import { type CutProxy, startCutProxy } from "./cut-proxy.js";
import { createPostgresFixture, type PostgresFixture } from "./postgres-fixture.js";
import { watchProcessErrors } from "./process-errors.js";

/**
 * The postgres connector (membership mode) talking to the local PostgreSQL through a TCP proxy
 * that holds its statement on the wire, then resets the connection or lets the server end the
 * session. pg emits 'error' on a checked-out client whose socket dies (FACTS.md): unheard, that
 * ended the whole process.
 */

let fixture: PostgresFixture;
let proxy: CutProxy;
beforeAll(async () => {
  fixture = await createPostgresFixture("pgcut");
  const server = new URL(fixture.granterUrl);
  proxy = await startCutProxy({ host: server.hostname, port: Number(server.port || 5432) });
});
afterAll(async () => {
  await proxy?.close();
  await fixture?.cleanup();
});

let sequence = 0;
const membershipContext = (): GrantContext => ({
  grantId: `grant-${++sequence}`,
  principal: fixture.role("alice"),
  target: validateTarget("postgres", { role: fixture.role("reader") }),
  expiresAt: new Date(Date.now() + 3_600_000),
});
const proxiedUrl = () => {
  const url = new URL(fixture.granterUrl);
  url.port = String(proxy.port);
  return url.toString();
};
const proxiedConnector = (): Connector => {
  const url = proxiedUrl();
  return postgresConnectorDefinition.create(postgresConnectorDefinition.configSchema.parse({ url }), {
    name: "pg-cut",
    secrets: [url],
  });
};
async function membershipCount(principal: string): Promise<number> {
  const result = await fixture.superuser(
    `SELECT count(*)::int AS n FROM pg_auth_members WHERE roleid = $1::regrole AND member = $2::regrole`,
    [fixture.role("reader"), principal],
  );
  return (result.rows[0] as { n: number }).n;
}

runConnectionCutCases("postgres (membership), TCP reset", async () => ({
  connector: proxiedConnector(),
  makeContext: membershipContext,
  hasAccess: (context) => fixture.canConnect(context.principal),
  countAccess: (context) => membershipCount(context.principal),
  holdNext: (action) => proxy.holdAt("toServer", action === "grant" ? "GRANT " : "REVOKE "),
  cut: async () => proxy.resetAll(),
  secrets: [...fixture.secrets, proxiedUrl()],
}));

describe("postgres connector, other cuts", () => {
  let connector: Connector;
  beforeAll(() => {
    connector = proxiedConnector();
  });
  afterAll(async () => {
    await connector?.close?.();
  });

  it("survives the server ending its sessions (pg_terminate_backend) mid-grant, and the retry grants", async () => {
    const watch = watchProcessErrors();
    try {
      const context = membershipContext();
      const error = await errorWhenCut(
        {
          holdNext: () => proxy.holdAt("toServer", "GRANT "),
          // Every session of Sesame's account: the held one, and any idle one the pool keeps.
          cut: async () =>
            void (await fixture.superuser(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND datname = $2",
              [fixture.role("granter"), fixture.databaseName],
            )),
        },
        "grant",
        () => connector.grant(context),
      );
      expectRetryableFailure(error, "grant", [...fixture.secrets, proxiedUrl()]);
      const receipt = await connector.grant(context);
      expect(await fixture.canConnect(context.principal)).toBe(true);
      await connector.revoke({ ...context, receipt: receipt.data });
      expect(await fixture.canConnect(context.principal)).toBe(false);
      watch.expectNone();
    } finally {
      watch.stop();
    }
  });

  it("survives losing the answer to a GRANT the server applied, and the retry keeps it as Sesame's own", async () => {
    const watch = watchProcessErrors();
    try {
      const context = membershipContext();
      const error = await errorWhenCut(
        { holdNext: () => proxy.holdAt("toClient", "GRANT ROLE"), cut: async () => proxy.resetAll() },
        "grant",
        () => connector.grant(context),
      );
      expectRetryableFailure(error, "grant", [...fixture.secrets, proxiedUrl()]);
      expect(await membershipCount(context.principal)).toBe(1);
      // Not "preexisting": that would make the revoke leave Sesame's own membership in place.
      const receipt = await connector.grant(context);
      expect(receipt.data).toMatchObject({ preexisting: false });
      expect(await membershipCount(context.principal)).toBe(1);
      await connector.revoke({ ...context, receipt: receipt.data });
      expect(await fixture.canConnect(context.principal)).toBe(false);
      watch.expectNone();
    } finally {
      watch.stop();
    }
  });
});
