import { randomBytes } from "node:crypto";
import type { GrantContext } from "../../src/connectors/connector.js";
import { EntraGroupConnector } from "../../src/connectors/entra-group/entra-group-connector.js";
import { entraGroupConnectorSpec } from "../../src/connectors/entra-group/entra-group-spec.js";
import type { EntraStandIn } from "./entra-group-stand-in.js";

/** Shared pieces of the entra-group tests: connectors pointed at the local stand-in, contexts with fresh users. */

export function entraConnector(
  standIn: EntraStandIn,
  overrides: Record<string, unknown> = {},
  options: { name?: string; sleep?: (ms: number) => Promise<void>; clientSecret?: string } = {},
): EntraGroupConnector {
  const clientSecret = options.clientSecret ?? standIn.clientSecret;
  const config = entraGroupConnectorSpec.configSchema.parse({
    tenantId: standIn.tenantId,
    clientId: standIn.clientId,
    clientSecret,
    graphUrl: standIn.graphUrl,
    authorityUrl: standIn.graphUrl.replace(/\/v1\.0$/, ""),
    ...overrides,
  });
  return new EntraGroupConnector(config, {
    name: options.name ?? "entra",
    secrets: [clientSecret],
    sleep: options.sleep ?? (async () => {}),
  });
}

const suffix = randomBytes(3).toString("hex");
let sequence = 0;

export function entraContext(standIn: EntraStandIn, groupId: string): GrantContext & { userId: string } {
  sequence += 1;
  const upn = `user-${suffix}-${sequence}@contoso.example`;
  const user = standIn.addUser(upn);
  return {
    grantId: `0e4c${suffix}-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
    principal: upn,
    target: { groupId },
    expiresAt: new Date(Date.now() + 3_600_000),
    userId: user.id,
  };
}
