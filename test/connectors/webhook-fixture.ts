import { randomBytes } from "node:crypto";
import net from "node:net";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { WebhookConnector, webhookConnectorDefinition } from "../../src/connectors/webhook/webhook-connector.js";

/** Shared pieces of the webhook tests: a secret that is hard to redact, connectors, contexts. */

/** Quote, slash, plus and a non-ASCII letter: each has a different URL and JSON spelling. */
export const makeSecret = (): string => `whsec_${randomBytes(18).toString("base64url")}/+"é&`;

/**
 * Builds a connector the way the registry does: schema first (defaults applied), then create.
 * With `sleep`, the waits between quick retries go to it instead (see recordingSleep).
 */
export function webhook(
  config: Record<string, unknown>,
  name = "hooks",
  options: { sleep?: (ms: number) => Promise<void> } = {},
): Connector {
  const parsed = webhookConnectorDefinition.configSchema.parse(config);
  const secrets = [String(config.secret)];
  // The registry's create() has no place for a sleep: only the class takes one.
  return options.sleep
    ? new WebhookConnector(parsed, { name, secrets, sleep: options.sleep })
    : webhookConnectorDefinition.create(parsed, { name, secrets });
}

/** A `sleep` that only records what it was asked to wait, so retry tests check backoff without a stopwatch. */
export function recordingSleep(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

const suffix = randomBytes(3).toString("hex");
let sequence = 0;

/** A fresh grant for a fresh principal, so tests never see each other's state. */
export function makeContext(
  target: Record<string, unknown> = { system: "vault", policy: "prod-read" },
  principal?: string,
): GrantContext {
  sequence += 1;
  return {
    grantId: `grant-${suffix}-${sequence}`,
    principal: principal ?? `user-${suffix}-${sequence}@example.com`,
    target,
    expiresAt: new Date(Date.now() + 3_600_000),
  };
}

/** A loopback port nobody listens on: connections to it are refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The error a call failed with (the test fails if it succeeded). */
export async function failure(promise: Promise<unknown>): Promise<Error & { code?: string; userMessage?: string }> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => error as Error & { code?: string; userMessage?: string },
  );
}
