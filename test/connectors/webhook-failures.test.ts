import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector } from "../../src/connectors/connector.js";
import { expectNoSecret } from "./conformance.js";
import { closedPort, failure, makeContext, makeSecret, recordingSleep, webhook } from "./webhook-fixture.js";
import { createWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.js";

/** Retries, timeouts and unreachable receivers; and that no failure ever shows the HMAC secret. */

const secret = makeSecret();
/** The waits between quick retries, recorded instead of slept: backoff is checked as asked for, not timed. */
const { waits, sleep } = recordingSleep();
let receiver: WebhookReceiver;
let connector: Connector;
beforeAll(async () => {
  receiver = await createWebhookReceiver(secret);
  connector = webhook({ url: receiver.url, secret, retries: 3 }, "hooks", { sleep });
});
afterAll(async () => {
  await connector?.close?.();
  await receiver?.close();
});

/** The requests the receiver got, and the waits between retries asked for, while `work` ran. */
async function during(work: () => Promise<unknown>) {
  const [requestsBefore, waitsBefore] = [receiver.requests.length, waits.length];
  await work();
  return { requests: receiver.requests.slice(requestsBefore), waits: waits.slice(waitsBefore) };
}

/** Requests the receiver got while `work` ran. */
async function requestsDuring(work: () => Promise<unknown>) {
  return (await during(work)).requests;
}

const errorTexts = (error: Error & { userMessage?: string }) => [
  error.message,
  error.userMessage ?? "",
  error.stack ?? "",
  JSON.stringify(error),
];

describe("webhook connector failures", () => {
  it("retries 503 twice with backoff, then grants once", async () => {
    const context = makeContext();
    receiver.script({ status: 503 }, { status: 503 });
    const { requests, waits: backoff } = await during(() => connector.grant(context));
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((request) => request.headers["idempotency-key"]))).toEqual(
      new Set([`${context.grantId}:grant`]),
    );
    // Exponential with jitter: 250 ms then 500 ms, each somewhere between half and all of it.
    expect(backoff).toHaveLength(2);
    expect(backoff[0]).toBeGreaterThanOrEqual(125);
    expect(backoff[0]).toBeLessThanOrEqual(250);
    expect(backoff[1]).toBeGreaterThanOrEqual(250);
    expect(backoff[1]).toBeLessThanOrEqual(500);
    expect(receiver.grantsOf(context.principal)).toEqual([context.grantId]);
    await connector.revoke({ ...context, receipt: null });
  });

  it("honours Retry-After on 429, and gives up at once when it asks for too long", async () => {
    const context = makeContext();
    receiver.script({ status: 429, headers: { "Retry-After": "1" } });
    const granted = await during(() => connector.grant(context));
    expect(granted.requests).toHaveLength(2);
    expect(granted.waits).toEqual([1_000]);
    receiver.script({ status: 429, headers: { "Retry-After": "3600" } });
    let error: Error & { userMessage?: string } = new Error();
    const revoked = await during(async () => (error = await failure(connector.revoke({ ...context, receipt: null }))));
    expect(revoked.requests).toHaveLength(1);
    expect(revoked.waits).toEqual([]);
    expect(error.userMessage).toMatch(/HTTP 429 .*asked to retry after 3600 s; the job will be retried later/);
  });

  it("takes a 400 as final: no retry, and the receiver's answer in the message", async () => {
    receiver.script({ status: 400, body: JSON.stringify({ error: "unknown policy prod-read" }) });
    let error: Error & { userMessage?: string } = new Error();
    expect(await requestsDuring(async () => (error = await failure(connector.grant(makeContext()))))).toHaveLength(1);
    expect(error).toMatchObject({ code: "connector_failed" });
    expect(error.userMessage).toMatch(
      /could not grant access: the receiver at http:\/\/127\.0\.0\.1:\d+\/hooks\/sesame answered HTTP 400 Bad Request: \{"error":"unknown policy prod-read"\}\. The receiver rejected/,
    );
  });

  it("gives up after the configured retries of 5xx", async () => {
    const hooks = webhook({ url: receiver.url, secret, retries: 1 });
    receiver.script({ status: 500 }, { status: 502 });
    const error = await failure(hooks.grant(makeContext()));
    expect(error.userMessage).toMatch(
      /answered HTTP 502 Bad Gateway \(after 2 attempts\)\. The receiver is failing or overloaded/,
    );
    await hooks.close?.();
  });

  it("times out a receiver that does not answer", async () => {
    // The receiver would answer, but only long after the 0.3 s timeout; the error names that timeout.
    const hooks = webhook({ url: receiver.url, secret, timeoutSeconds: 0.3, retries: 1 }, "hooks", { sleep });
    receiver.script({ status: 200, delayMs: 3_000 }, { status: 200, delayMs: 3_000 });
    const error = await failure(hooks.grant(makeContext()));
    expect(error.userMessage).toMatch(
      /did not answer within 0\.3 s \(after 2 attempts\)\. Check that the receiver is up/,
    );
    await hooks.close?.();
  });

  it("reports an unreachable receiver and a TLS mismatch in words", async () => {
    const unreachable = webhook({ url: `http://127.0.0.1:${await closedPort()}/hooks`, secret, retries: 0 });
    const error = await failure(unreachable.grant(makeContext()));
    expect(error.userMessage).toMatch(
      /cannot reach the receiver at http:\/\/127\.0\.0\.1:\d+\/hooks: connection refused \(ECONNREFUSED\)\. Check the host and port/,
    );
    expect((await unreachable.check()).problems).toEqual([
      expect.stringMatching(/^ping failed: cannot reach the receiver/),
    ]);
    const tls = webhook({ url: receiver.url.replace("http:", "https:"), secret });
    expect((await tls.check()).problems).toEqual([
      expect.stringMatching(
        /^ping failed: TLS with https:\/\/127\.0\.0\.1:\d+\/hooks\/sesame failed: wrong version number \((EPROTO|ERR_SSL_WRONG_VERSION_NUMBER)\)/,
      ),
    ]);
    await Promise.all([unreachable.close?.(), tls.close?.()]);
  });

  it("does not follow redirects", async () => {
    receiver.script({ status: 302, headers: { Location: "http://elsewhere.example/" } });
    expect((await failure(connector.grant(makeContext()))).userMessage).toMatch(
      /HTTP 302 Found\. Sesame does not follow redirects/,
    );
  });

  it("never shows the HMAC secret or the url's password, even when the receiver echoes them", async () => {
    const password = "pa55/w@rd:x";
    const url = new URL(receiver.url);
    url.username = "sesame";
    url.password = encodeURIComponent(password);
    const hooks = webhook({ url: url.toString(), secret });
    const leaks = [secret, password, encodeURIComponent(password)];

    receiver.script({ status: 400, body: `bad key ${secret} for ${url.toString()}` });
    const error = await failure(hooks.grant(makeContext()));
    expect(error.userMessage).toContain("[redacted]");
    expect(error.userMessage).toMatch(/receiver at http:\/\/127\.0\.0\.1:\d+\/hooks\/sesame answered/);
    expectNoSecret(errorTexts(error), leaks);
    expect(receiver.requests.at(-1)!.headers.authorization).toBe(
      `Basic ${Buffer.from(`sesame:${password}`).toString("base64")}`,
    );

    receiver.script({ status: 200, body: JSON.stringify({ echo: secret, [secret]: [secret] }) });
    const receipt = await hooks.grant(makeContext());
    expect(receipt.data).toEqual({ status: 200, response: { echo: "[redacted]", "[redacted]": ["[redacted]"] } });

    receiver.script({ status: 500, body: secret });
    const check = await hooks.check();
    expect(check.ok).toBe(false);
    expectNoSecret(check.problems, leaks);
    await hooks.close?.();
  });
});
