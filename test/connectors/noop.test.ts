import { describe, expect, it } from "vitest";
import type { GrantContext } from "../../src/connectors/connector.js";
import { NoopConnector, noopConnectorDefinition } from "../../src/connectors/noop/noop-connector.js";
import { createConnector } from "../../src/connectors/registry.js";
import { isAppError } from "../../src/domain/errors.js";
import { runConnectorConformance } from "./conformance.js";

let sequence = 0;
const makeContext = (): GrantContext => ({
  grantId: `grant-${++sequence}`,
  principal: "alice",
  target: { anything: "goes" },
  expiresAt: new Date(Date.now() + 3_600_000),
});

function noop(config: Record<string, unknown> = {}): NoopConnector {
  const connector = noopConnectorDefinition.create(noopConnectorDefinition.configSchema.parse(config), {
    name: "demo",
    secrets: [],
  });
  if (!(connector instanceof NoopConnector)) throw new Error("the definition did not build a NoopConnector");
  return connector;
}

runConnectorConformance(
  "noop",
  async () => {
    const connector = noop();
    return {
      connector,
      makeContext,
      hasAccess: async (context) => connector.activeGrantIds().includes(context.grantId),
      removeOutOfBand: async (context) => connector.removeOutOfBand(context.grantId),
      secrets: [],
      breakConnector: async () => noop({ failGrant: true, failRevoke: true }),
    };
  },
  { brokenConnector: true, failingContext: false },
);

describe("noop connector", () => {
  it("records every call in order", async () => {
    const connector = noop();
    const context = makeContext();
    await connector.grant(context);
    await connector.revoke({ ...context, receipt: null });
    expect(connector.calls.map((call) => [call.operation, call.grantId])).toEqual([
      ["grant", context.grantId],
      ["revoke", context.grantId],
    ]);
  });

  it("fails the first N grants when failGrant is a number, then succeeds", async () => {
    const connector = noop({ failGrant: 2 });
    const context = makeContext();
    await expect(connector.grant(context)).rejects.toSatisfy(isAppError);
    await expect(connector.grant(context)).rejects.toMatchObject({ code: "connector_failed" });
    await expect(connector.grant(context)).resolves.toMatchObject({ data: { noop: true } });
    expect(connector.activeGrantIds()).toEqual([context.grantId]);
  });

  it("keeps access when a revoke fails, so a retry has something to do", async () => {
    const connector = noop({ failRevoke: 1 });
    const context = makeContext();
    await connector.grant(context);
    await expect(connector.revoke({ ...context, receipt: null })).rejects.toMatchObject({ code: "connector_failed" });
    expect(await connector.verifyRevoked({ ...context, receipt: null })).toBe(false);
    await connector.revoke({ ...context, receipt: null });
    expect(await connector.verifyRevoked({ ...context, receipt: null })).toBe(true);
  });

  it("rejects unknown config keys, naming the connector and the key", async () => {
    await expect(createConnector({ name: "demo", type: "noop", config: { failGrnt: true } })).rejects.toThrow(
      /connector "demo" config.*failGrnt/,
    );
  });
});
