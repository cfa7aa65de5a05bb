import { randomBytes } from "node:crypto";
import { auth } from "@googleapis/cloudresourcemanager";
import type { GrantContext } from "../../src/connectors/connector.js";
import { GcpIamConnector } from "../../src/connectors/gcp-iam/gcp-iam-connector.js";
import { gcpIamConnectorSpec } from "../../src/connectors/gcp-iam/gcp-iam-spec.js";
import type { GcpIamStandIn } from "./gcp-iam-stand-in.js";

/** Shared pieces of the gcp-iam tests: connectors pointed at the local stand-in with a fake token source, contexts. */

export const PROJECT = "sesame-test-project";
export const ROLE = "roles/storage.objectViewer";

/** The official client's OAuth2 client holding a fixed, unexpired token: no Google sign-in involved. */
export function fakeTokenSource(token: string): InstanceType<typeof auth.OAuth2> {
  const client = new auth.OAuth2();
  client.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000, token_type: "Bearer" });
  return client;
}

export function gcpConnector(
  standIn: GcpIamStandIn,
  apiEndpoint: string,
  overrides: Record<string, unknown> = {},
  options: { name?: string; sleep?: (ms: number) => Promise<void>; token?: string } = {},
): GcpIamConnector {
  const config = gcpIamConnectorSpec.configSchema.parse({ apiEndpoint, ...overrides });
  return new GcpIamConnector(config, {
    name: options.name ?? "gcp",
    secrets: [],
    auth: fakeTokenSource(options.token ?? standIn.token),
    sleep: options.sleep ?? (async () => {}),
  });
}

export function recordingSleep(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

const suffix = randomBytes(3).toString("hex");
let sequence = 0;

export function gcpContext(
  target: Record<string, unknown> = { project: PROJECT, role: ROLE },
  expiresAt = new Date(Date.now() + 3_600_000),
): GrantContext {
  sequence += 1;
  return {
    grantId: `0b4c${suffix}-0000-4000-8000-${String(sequence).padStart(12, "0")}`,
    principal: `user-${suffix}-${sequence}@example.com`,
    target,
    expiresAt,
  };
}

export const memberOf = (context: GrantContext): string => `user:${context.principal}`;
