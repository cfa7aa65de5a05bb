import { expect } from "vitest";
import { secretVariants } from "../../src/connectors/redact.js";
import { OnCallUnavailableError } from "../../src/domain/on-call-unavailable.js";
import type { PolicyFile } from "../../src/domain/policy/policy-schema.js";
import type { OnCallEnv } from "../../src/oncall/provider.js";

/**
 * Shared bits of the on-call tests. They all run against the local fakes in this folder: no
 * real PagerDuty or Opsgenie can run here, and none is ever called.
 */

export const PD_API_TOKEN = "pd-rest-token-Q1w2E3r4T5y6U7i8";
export const PD_ROUTING_KEY = "R0uT1nGkEy0123456789abcdefABCDEF";
export const OPSGENIE_API_KEY = "0a1b2c3d-genie-key-4e5f6a7b8c9d";
export const ALL_SECRETS = [PD_API_TOKEN, PD_ROUTING_KEY, OPSGENIE_API_KEY];

/** Every key set, every URL pointing at `url` (a fake); override what a test is about. */
export function onCallEnv(url: string, overrides: Partial<OnCallEnv> = {}): OnCallEnv {
  return {
    PAGERDUTY_API_TOKEN: PD_API_TOKEN,
    PAGERDUTY_ROUTING_KEY: PD_ROUTING_KEY,
    PAGERDUTY_API_URL: url,
    PAGERDUTY_EVENTS_URL: url,
    OPSGENIE_API_KEY,
    OPSGENIE_API_URL: url,
    ...overrides,
  };
}

export const SOURCES: PolicyFile["oncall"] = {
  "db-primary": { provider: "pagerduty", schedule: "PSCHED1", level: 1 },
  "db-secondary": { provider: "pagerduty", escalationPolicy: "PEP1", level: 2 },
  "db-policy": { provider: "pagerduty", escalationPolicy: "PEP1" },
  platform: { provider: "opsgenie", schedule: "Platform Primary" },
};

/** A `sleep` that only records what it was asked to wait, so retry tests take no time. */
export function recordingSleep(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

/** Awaits a call that must fail with OnCallUnavailableError, and checks no secret is anywhere in it. */
export async function unavailable(promise: Promise<unknown>): Promise<OnCallUnavailableError> {
  const error = await promise.then(
    () => expect.fail("expected the call to fail"),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(OnCallUnavailableError);
  const texts = [String(error), (error as Error).stack ?? "", JSON.stringify(error)];
  for (const variant of ALL_SECRETS.flatMap(secretVariants)) {
    for (const text of texts) expect(text, "a secret leaked").not.toContain(variant);
  }
  return error as OnCallUnavailableError;
}
