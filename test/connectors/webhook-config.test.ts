import { describe, expect, it } from "vitest";
import { describeIssues } from "../../src/connectors/config-errors.js";
import { webhookConnectorDefinition } from "../../src/connectors/webhook/webhook-connector.js";
import { retryAfterSeconds } from "../../src/connectors/webhook/webhook-retry.js";
import { expectNoSecret } from "./conformance.js";
import { failure, makeContext, makeSecret, webhook } from "./webhook-fixture.js";

/** Config and target validation of the webhook connector; no receiver needed. */

const { configSchema, targetSchema } = webhookConnectorDefinition;
const secret = makeSecret();

/** The problems the registry would report for this config. */
function problems(config: Record<string, unknown>): string[] {
  const result = configSchema.safeParse(config);
  return result.success ? [] : describeIssues(result.error, `connector "hooks" config`);
}

describe("webhook config", () => {
  it("applies defaults and declares the secret", () => {
    expect(configSchema.parse({ url: "https://hooks.example.com/sesame", secret })).toEqual({
      url: "https://hooks.example.com/sesame",
      secret,
      headers: {},
      timeoutSeconds: 10,
      retries: 3,
      requireSignedResponses: true,
    });
    expect(webhookConnectorDefinition.secretFields).toEqual(["secret"]);
  });

  it("names each bad field without echoing the secret", () => {
    const shortSecret = "short-but-secret";
    const found = problems({
      url: "ftp://hooks.example.com",
      secret: shortSecret,
      statusUrl: "not a url",
      retries: -1,
      extra: 1,
    });
    expect(found).toEqual([
      expect.stringMatching(/config\.url: must be an http:\/\/ or https:\/\/ URL/),
      expect.stringMatching(/config\.secret: must be at least 32 characters long/),
      expect.stringMatching(/config\.retries: /),
      expect.stringMatching(/config\.statusUrl: must be an http/),
      expect.stringMatching(/config: Unrecognized key: "extra"/),
    ]);
    expectNoSecret(found, [shortSecret]);
    expect(problems({ url: "https://u:50%zz@hooks.example.com", secret })).toEqual([
      expect.stringMatching(/config\.url: percent-encode special characters/),
    ]);
  });

  it("refuses extra headers that Sesame sets, that carry credentials, or that could inject headers", () => {
    expect(problems({ url: "https://h.example", secret, headers: { "X-Team": "payments" } })).toEqual([]);
    for (const name of ["Authorization", "x-sesame-signature", "Idempotency-Key", "Cookie"]) {
      expect(problems({ url: "https://h.example", secret, headers: { [name]: "x" } })).toEqual([
        expect.stringMatching(/is set by Sesame or would carry a credential/),
      ]);
    }
    expect(problems({ url: "https://h.example", secret, headers: { "X-Team": "a\r\nX-Evil: 1" } })).toEqual([
      expect.stringMatching(/must not contain line breaks/),
    ]);
    expect(problems({ url: "https://h.example", secret, headers: { "Bad Name": "x" } })).toEqual([
      expect.stringMatching(/valid HTTP header name/),
    ]);
  });

  it("accepts any plain JSON object as target, nothing else", () => {
    const target = { system: "vault", policy: "prod-read", ttl: 3600, tags: ["a", null], nested: { ok: true } };
    expect(targetSchema.parse(target)).toEqual(target);
    for (const bad of [["vault"], "vault", null, { when: new Date() }, { n: Number.NaN }, { f: () => 1 }]) {
      expect(targetSchema.safeParse(bad).success).toBe(false);
    }
  });

  it("refuses a principal with control characters, or a target that is not an object, before sending anything", async () => {
    const hooks = webhook({ url: "http://127.0.0.1:9/never", secret, retries: 0 });
    const error = await failure(hooks.grant(makeContext(undefined, "alice\nX-Evil: 1")));
    expect(error).toMatchObject({
      code: "connector_failed",
      userMessage: expect.stringMatching(
        /cannot use principal "alice\\nX-Evil: 1": it must not contain control characters/,
      ),
    });
    expect(
      (await failure(hooks.grant({ ...makeContext(), target: ["vault"] as unknown as Record<string, unknown> }))).code,
    ).toBe("config_invalid");
    await hooks.close?.();
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(retryAfterSeconds("7", now)).toBe(7);
    expect(retryAfterSeconds("Wed, 01 Jan 2025 00:00:20 GMT", now)).toBe(20);
    expect(retryAfterSeconds("Tue, 31 Dec 2024 23:00:00 GMT", now)).toBe(0);
    expect(retryAfterSeconds("soon", now)).toBeUndefined();
    expect(retryAfterSeconds(undefined, now)).toBeUndefined();
  });
});
