import { randomBytes } from "node:crypto";
import type { GrantContext } from "../../src/connectors/connector.js";
import { OktaGroupConnector } from "../../src/connectors/okta-group/okta-group-connector.js";
import { oktaGroupConnectorSpec } from "../../src/connectors/okta-group/okta-group-spec.js";
import type { OktaStandIn } from "./okta-group-stand-in.js";

/** Shared pieces of the okta-group tests: connectors pointed at the local stand-in, contexts with fresh users. */

export function oktaConnector(
  standIn: OktaStandIn,
  orgUrl: string,
  overrides: Record<string, unknown> = {},
  options: { name?: string; sleep?: (ms: number) => Promise<void>; token?: string } = {},
): OktaGroupConnector {
  const token = options.token ?? standIn.token;
  const config = oktaGroupConnectorSpec.configSchema.parse({ orgUrl, token, ...overrides });
  return new OktaGroupConnector(config, {
    name: options.name ?? "okta",
    secrets: [token],
    sleep: options.sleep ?? (async () => {}),
  });
}

const suffix = randomBytes(3).toString("hex");
let sequence = 0;

/** A grant for a new Okta user (created in the stand-in) to `groupId`. */
export function oktaContext(standIn: OktaStandIn, groupId: string): GrantContext & { userId: string } {
  sequence += 1;
  const login = `user-${suffix}-${sequence}@example.com`;
  const user = standIn.addUser(login);
  return {
    grantId: `0b4c${suffix}-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
    principal: login,
    target: { groupId },
    expiresAt: new Date(Date.now() + 3_600_000),
    userId: user.id,
  };
}
