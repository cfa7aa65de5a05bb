import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector } from "../../src/connectors/connector.js";
import { expectNoSecret, runConnectorConformance } from "./conformance.js";
import { closedPort, failure, makeContext, makeSecret, webhook } from "./webhook-fixture.js";
import { createWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.js";

/** The webhook connector against a local receiver that verifies signatures and keeps grant state. */

const secret = makeSecret();
let receiver: WebhookReceiver;
let connector: Connector;
beforeAll(async () => {
  receiver = await createWebhookReceiver(secret);
  connector = webhook({ url: receiver.url, secret, statusUrl: receiver.statusUrl });
});
afterAll(async () => {
  await connector?.close?.();
  await receiver?.close();
});

runConnectorConformance(
  "webhook",
  async () => ({
    connector: webhook({ url: receiver.url, secret, statusUrl: receiver.statusUrl }),
    makeContext: () => makeContext(),
    hasAccess: async (context) => receiver.grantsOf(context.principal).length > 0,
    countAccess: async (context) => receiver.grantsOf(context.principal).length,
    removeOutOfBand: async (context) => receiver.removeOutOfBand(context.principal, context.grantId),
    secrets: [secret],
    breakConnector: async () =>
      webhook({ url: `http://127.0.0.1:${await closedPort()}/hooks`, secret, retries: 1 }, "hooks-unreachable"),
    makeFailingContext: () => makeContext(undefined, "unknown-person"),
  }),
  { brokenConnector: true, failingContext: true },
);

/** HMAC-SHA256 written out here, independently of the connector's code. */
const expectedSignature = (timestamp: string, body: string) =>
  `v1=${createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(Buffer.from(`${timestamp}.${body}`, "utf8"))
    .digest("hex")}`;

describe("webhook connector", () => {
  it("sends a signed grant whose signature an independent HMAC check accepts", async () => {
    const context = makeContext({ system: "vault", policy: "prod-read", nested: { list: [1, "two", null] } });
    const before = Math.floor(Date.now() / 1000);
    await connector.grant(context);
    const after = Math.floor(Date.now() / 1000);
    const request = receiver.requests.at(-1)!;
    const { headers, body } = request;
    expect(request).toMatchObject({ method: "POST", path: "/hooks/sesame" });
    expect(headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "sesame-webhook/1",
      "idempotency-key": `${context.grantId}:grant`,
      "x-sesame-event": "grant",
    });
    const timestamp = String(headers["x-sesame-timestamp"]);
    // Signed at the moment of sending, however long the call took.
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(timestamp)).toBeLessThanOrEqual(after);
    expect(headers["x-sesame-signature"]).toBe(expectedSignature(timestamp, body));
    expect(headers["x-sesame-signature"]).not.toBe(
      expectedSignature(timestamp, body.replace("prod-read", "prod-write")),
    );
    expect(JSON.parse(body)).toEqual({
      event: "grant",
      grantId: context.grantId,
      principal: context.principal,
      target: context.target,
      expiresAt: context.expiresAt.toISOString(),
      sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    await connector.revoke({ ...context, receipt: null });
  });

  it("grants access, stores the receiver's answer, and sends it back with the revoke", async () => {
    const context = makeContext();
    expect(receiver.grantsOf(context.principal)).toEqual([]);
    const receipt = await connector.grant(context);
    expect(receipt).toEqual({ data: { status: 201, response: { accessId: `acc-${context.grantId}` } } });
    expect(receiver.grantsOf(context.principal)).toEqual([context.grantId]);
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(receiver.grantsOf(context.principal)).toEqual([]);
    const revoke = receiver.requests.at(-1)!;
    expect(revoke.headers["idempotency-key"]).toBe(`${context.grantId}:revoke`);
    expect(JSON.parse(revoke.body)).toMatchObject({
      event: "revoke",
      grantId: context.grantId,
      receipt: { accessId: `acc-${context.grantId}` },
    });
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
  });

  it("hands credentials from the receiver to GrantReceipt.secret only", async () => {
    const issuing = await createWebhookReceiver(secret, { issueCredentials: true });
    const hooks = webhook({ url: issuing.url, secret });
    try {
      const context = makeContext();
      const receipt = await hooks.grant(context);
      expect(receipt.secret).toEqual({
        username: context.principal,
        password: expect.stringMatching(/^[0-9a-f]{24}$/),
      });
      expect(receipt.data).toEqual({ status: 201, response: { accessId: `acc-${context.grantId}` } });
      expectNoSecret([JSON.stringify(receipt.data)], [receipt.secret!.password!, secret]);
    } finally {
      await hooks.close?.();
      await issuing.close();
    }
  });

  it("refuses requests signed with another secret (401, not retried) and says what to check", async () => {
    const otherSecret = makeSecret();
    const wrong = webhook({ url: receiver.url, secret: otherSecret }, "hooks-wrong-secret");
    const before = receiver.requests.length;
    const error = await failure(wrong.grant(makeContext()));
    expect(receiver.requests.length - before).toBe(1);
    expect(error).toMatchObject({
      code: "connector_failed",
      userMessage: expect.stringMatching(/answered HTTP 401.*same secret.*clocks/),
    });
    expectNoSecret([error.message, error.userMessage!, JSON.stringify(error)], [otherSecret, secret]);
    await wrong.close?.();
  });

  it("treats a signed 410 confirming the grant as revoked, and a 2xx saying revoked: false as a failure", async () => {
    const gone = makeContext();
    receiver.script({ status: 410, body: JSON.stringify({ grantId: gone.grantId, revoked: true }), sign: true });
    await connector.revoke({ ...gone, receipt: null });
    const kept = makeContext();
    receiver.script({ status: 200, body: JSON.stringify({ grantId: kept.grantId, revoked: false }), sign: true });
    const error = await failure(connector.revoke({ ...kept, receipt: null }));
    expect(error.userMessage).toMatch(
      /could not revoke access: .*HTTP 200 OK with an answer that does not say "revoked": true.*not as expected/,
    );
  });

  it("offers verifyRevoked only with a statusUrl, and fails it when the answer says nothing", async () => {
    const plain = webhook({ url: receiver.url, secret });
    expect(plain.verifyRevoked).toBeUndefined();
    const context = makeContext();
    receiver.script({ status: 200, body: JSON.stringify({ grantId: context.grantId }), sign: true });
    const error = await failure(connector.verifyRevoked!({ ...context, receipt: null }));
    expect(error.userMessage).toMatch(
      /could not verify a revoke: the receiver at http:\/\/127\.0\.0\.1:\d+\/status answered HTTP 200 OK with an answer without "active"/,
    );
  });

  it("check() pings the receiver and probes the status url", async () => {
    expect(await connector.check({ targets: [{ system: "vault" }] })).toEqual({ ok: true, problems: [] });
    const ping = receiver.requests.at(-2)!;
    expect(JSON.parse(ping.body)).toEqual({ event: "ping", sentAt: expect.any(String) });
    const broken = webhook({
      url: receiver.url.replace("/hooks/sesame", "/missing"),
      secret,
      statusUrl: receiver.statusUrl.replace("/status", "/nothing"),
    });
    receiver.script({ status: 404, body: "no such hook" });
    const result = await broken.check({ targets: [["not", "an", "object"]] as unknown as Record<string, unknown>[] });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      expect.stringMatching(/^target 1: .*expected record/),
      expect.stringMatching(
        /^ping failed: the receiver at http:\/\/127\.0\.0\.1:\d+\/missing answered HTTP 404 Not Found: no such hook\. Check the connector's url/,
      ),
      expect.stringMatching(/^status check failed: .*\/nothing answered HTTP 401/),
    ]);
    await broken.close?.();
  });

  it("keeps a receipt small: a big answer is left out, a huge one fails the grant", async () => {
    receiver.script({ status: 200, body: JSON.stringify({ blob: "x".repeat(10_000) }) });
    expect((await connector.grant(makeContext())).data).toEqual({
      status: 200,
      response: null,
      responseOmitted: "10011 bytes, more than 8192",
    });
    receiver.script({ status: 200, body: JSON.stringify({ blob: "x".repeat(70_000) }) });
    expect((await failure(connector.grant(makeContext()))).userMessage).toMatch(/answer is larger than 64 KB/);
  });
});
