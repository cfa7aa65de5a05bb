import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector, RevokeContext } from "../../src/connectors/connector.js";
import { isLoopbackHost } from "../../src/connectors/webhook/webhook-client.js";
import { expectNoSecret } from "./conformance.js";
import { failure, makeContext, makeSecret, webhook } from "./webhook-fixture.js";
import { createWebhookReceiver, signSesameAnswer, type WebhookReceiver } from "./webhook-receiver.js";

/**
 * Only the receiver's signed confirmation for this grant ends a grant. A status code alone proves
 * nothing: a moved receiver, an ingress's default backend or anyone on the path can answer 404,
 * and counting that as "revoked" would mark grants revoked while the access stays.
 */

const secret = makeSecret();
let receiver: WebhookReceiver;
let connector: Connector;
/** The same receiver, with requireSignedResponses turned off. */
let lenient: Connector;
beforeAll(async () => {
  receiver = await createWebhookReceiver(secret);
  connector = webhook({ url: receiver.url, secret, statusUrl: receiver.statusUrl, retries: 1 });
  lenient = webhook(
    { url: receiver.url, secret, statusUrl: receiver.statusUrl, retries: 1, requireSignedResponses: false },
    "hooks-lenient",
  );
});
afterAll(async () => {
  await connector?.close?.();
  await lenient?.close?.();
  await receiver?.close();
});

/** A grant the receiver really gave: the access the tests expect to survive a refused revoke. */
async function granted(): Promise<RevokeContext> {
  const context = makeContext();
  const receipt = await connector.grant(context);
  expect(receiver.grantsOf(context.principal)).toEqual([context.grantId]);
  return { ...context, receipt: receipt.data };
}

const confirmation = (grantId: string) => JSON.stringify({ grantId, revoked: true });
const NGINX_404 =
  "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>";

/** Revoke fails with this message, after exactly one request (final: no quick retry), and the access is still there. */
async function expectRefusedRevoke(hooks: Connector, context: RevokeContext, message: RegExp): Promise<void> {
  const before = receiver.requests.length;
  const error = await failure(hooks.revoke(context));
  expect(receiver.requests.length - before).toBe(1);
  expect(error).toMatchObject({ code: "connector_failed", userMessage: expect.stringMatching(message) });
  expectNoSecret([error.message, error.userMessage!, JSON.stringify(error)], [secret]);
  expect(receiver.grantsOf(context.principal)).toEqual([context.grantId]);
}

describe("webhook revoke answers", () => {
  it("does not count a plain HTML 404 (moved receiver, default backend) as revoked", async () => {
    const context = await granted();
    receiver.script({ status: 404, headers: { "Content-Type": "text/html" }, body: NGINX_404 });
    await expectRefusedRevoke(
      connector,
      context,
      /^Connector "hooks" could not revoke access: the receiver at http:\/\/127\.0\.0\.1:\d+\/hooks\/sesame answered HTTP 404 Not Found without a signature \(no X-Sesame-Signature header\): <html>.*Receivers must sign their answers/,
    );
    // Without signatures, the answer still has to name the grant: a page of HTML does not.
    receiver.script({ status: 404, headers: { "Content-Type": "text/html" }, body: NGINX_404 });
    await expectRefusedRevoke(
      lenient,
      context,
      /answered HTTP 404 Not Found with an answer that is not a JSON object: <html>.*A 404 counts only when the receiver confirms it.*check the connector's url/,
    );
    receiver.script({ status: 410, body: "" });
    await expectRefusedRevoke(
      lenient,
      context,
      /answered HTTP 410 Gone with an answer that is not a JSON object\. A 410 counts only/,
    );
    // The real revoke, retried later, goes through.
    await connector.revoke(context);
    expect(receiver.grantsOf(context.principal)).toEqual([]);
  });

  it("does not count a signed 404, 410 or 2xx that does not confirm this grant", async () => {
    const context = await granted();
    const answers: [status: number, body: unknown, message: RegExp][] = [
      [
        404,
        { error: "not found" },
        /answered HTTP 404 Not Found with an answer whose "grantId" is not "grant-[^"]+": \{"error":"not found"\}\. A 404 counts only/,
      ],
      [
        404,
        { grantId: `${context.grantId}-other`, revoked: true },
        /HTTP 404 Not Found with an answer whose "grantId" is not/,
      ],
      [
        410,
        { grantId: context.grantId, active: false },
        /HTTP 410 Gone with an answer that does not say "revoked": true/,
      ],
      [
        404,
        { grantId: context.grantId, revoked: "yes" },
        /HTTP 404 Not Found with an answer that does not say "revoked": true/,
      ],
      [
        200,
        { ok: true },
        /HTTP 200 OK with an answer whose "grantId" is not .*not as expected \(2xx, 404 or 410 with \{"grantId": "<id>", "revoked": true\}\)/,
      ],
      [204, undefined, /HTTP 204 No Content with an answer that is not a JSON object/],
      [200, [{ grantId: context.grantId, revoked: true }], /HTTP 200 OK with an answer that is not a JSON object/],
    ];
    for (const [status, body, message] of answers) {
      receiver.script({ status, body: body === undefined ? "" : JSON.stringify(body), sign: true });
      await expectRefusedRevoke(connector, context, message);
      receiver.script({ status, body: body === undefined ? "" : JSON.stringify(body) });
      await expectRefusedRevoke(lenient, context, message);
    }
    await connector.revoke(context);
  });

  it("refuses a confirmation that is unsigned, signed with another secret, changed on the way, or stale", async () => {
    const context = await granted();
    const body = confirmation(context.grantId);
    const signedWith = (headers: Record<string, string>) => ({ status: 404, body, headers });
    const answers: [answer: Parameters<WebhookReceiver["script"]>[0], message: RegExp][] = [
      [
        { status: 404, body },
        /answered HTTP 404 Not Found without a signature .*Receivers must sign their answers \(X-Sesame-Timestamp, and X-Sesame-Signature over "<timestamp>\.<body>"/,
      ],
      [
        signedWith(signSesameAnswer(body, makeSecret())),
        /HTTP 404 Not Found with a signature that does not match \(another secret, or the answer was changed on the way\)/,
      ],
      [
        signedWith(signSesameAnswer(confirmation(`${context.grantId}-other`), secret)),
        /with a signature that does not match/,
      ],
      [
        signedWith({ "X-Sesame-Signature": signSesameAnswer(body, secret)["X-Sesame-Signature"]! }),
        /signed without a valid X-Sesame-Timestamp/,
      ],
      [
        signedWith(signSesameAnswer(body, secret, Date.now() - 10 * 60_000)),
        /signed with a timestamp more than 5 minutes away from Sesame's clock/,
      ],
      [signedWith(signSesameAnswer(body, secret, Date.now() + 10 * 60_000)), /more than 5 minutes away/],
      [
        signedWith({ ...signSesameAnswer(body, secret), "X-Sesame-Timestamp": "99999999999999999999" }),
        /signed without a valid X-Sesame-Timestamp/,
      ],
      [
        signedWith({ ...signSesameAnswer(body, secret), "X-Sesame-Signature": "v1=" }),
        /with a signature that does not match/,
      ],
      [{ status: 200, body, sign: true, headers: { "X-Sesame-Signature": "" } }, /HTTP 200 OK without a signature/],
    ];
    for (const [answer, message] of answers) {
      receiver.script(answer);
      await expectRefusedRevoke(connector, context, message);
    }
    await connector.revoke(context);
    expect(receiver.grantsOf(context.principal)).toEqual([]);
  });

  it("accepts the receiver's signed confirmation with 2xx, 404 or 410", async () => {
    // 200: the receiver revoked it now; 404: already gone (never granted here).
    const context = await granted();
    await connector.revoke(context);
    expect(receiver.grantsOf(context.principal)).toEqual([]);
    expect(receiver.requests.at(-1)!.body).toContain(`"grantId":${JSON.stringify(context.grantId)}`);
    await connector.revoke({ ...makeContext(), receipt: null });
    for (const status of [200, 202, 404, 410]) {
      const other = makeContext();
      receiver.script({
        status,
        body: JSON.stringify({ grantId: other.grantId, revoked: true, note: "extra members are fine" }),
        sign: true,
      });
      await connector.revoke({ ...other, receipt: null });
    }
  });

  it("with requireSignedResponses: false, accepts an unsigned confirmation that names the grant", async () => {
    const context = await granted();
    receiver.script({ status: 404, body: confirmation(context.grantId) });
    await lenient.revoke(context);
    // A confirmation for another grant is still refused.
    receiver.script({ status: 200, body: confirmation(`${context.grantId}-other`) });
    await expectRefusedRevoke(lenient, context, /whose "grantId" is not/);
    await connector.revoke(context);
  });
});

describe("webhook status answers", () => {
  it("verifyRevoked needs a signed answer about this grant", async () => {
    const context = await granted();
    expect(await connector.verifyRevoked!(context)).toBe(false);
    const answers: [answer: Parameters<WebhookReceiver["script"]>[0], message: RegExp][] = [
      [
        { status: 200, body: JSON.stringify({ grantId: context.grantId, active: false }) },
        /could not verify a revoke: the receiver at http:\/\/127\.0\.0\.1:\d+\/status answered HTTP 200 OK without a signature/,
      ],
      [
        { status: 200, body: JSON.stringify({ active: false }), sign: true },
        /HTTP 200 OK with an answer whose "grantId" is not/,
      ],
      [
        { status: 200, body: JSON.stringify({ grantId: `${context.grantId}-other`, active: false }), sign: true },
        /whose "grantId" is not/,
      ],
      [
        { status: 404, headers: { "Content-Type": "text/html" }, body: NGINX_404 },
        /HTTP 404 Not Found: <html>.*Check the connector's url/,
      ],
    ];
    for (const [answer, message] of answers) {
      receiver.script(answer);
      expect((await failure(connector.verifyRevoked!(context))).userMessage).toMatch(message);
    }
    receiver.script({ status: 200, body: JSON.stringify({ grantId: context.grantId, active: false }), sign: true });
    expect(await connector.verifyRevoked!(context)).toBe(true);
    receiver.script({ status: 200, body: JSON.stringify({ grantId: context.grantId, active: false }) });
    expect(await lenient.verifyRevoked!(context)).toBe(true);
    await connector.revoke(context);
    expect(await connector.verifyRevoked!(context)).toBe(true);
  });
});

describe("webhook check()", () => {
  it("reports a receiver that does not sign its answers, before any revoke depends on it", async () => {
    receiver.script(
      { status: 200, body: JSON.stringify({ pong: true }) },
      { status: 200, body: JSON.stringify({ active: false }) },
    );
    const result = await connector.check();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^ping answer refused \(revokes would fail\): the receiver at http:\/\/127\.0\.0\.1:\d+\/hooks\/sesame answered HTTP 200 OK without a signature .*: \{"pong":true\}\. Receivers must sign their answers/,
      ),
      expect.stringMatching(
        /^status check failed: the receiver at http:\/\/127\.0\.0\.1:\d+\/status answered HTTP 200 OK without a signature/,
      ),
    ]);
    receiver.script(
      { status: 200, body: JSON.stringify({ pong: true }) },
      { status: 200, body: JSON.stringify({ active: false }) },
    );
    expect((await lenient.check()).problems).toEqual([
      expect.stringMatching(
        /^status check failed: .* answered HTTP 200 OK with an answer whose "grantId" is not "sesame-check-/,
      ),
    ]);
    receiver.script({ status: 200, body: "" }, { status: 200, body: "", headers: signSesameAnswer("", secret) });
    expect((await connector.check()).problems).toEqual([
      expect.stringMatching(/^ping answer refused/),
      expect.stringMatching(/^status check failed: .* answered HTTP 200 OK with an answer that is not a JSON object/),
    ]);
    expect(await connector.check()).toEqual({ ok: true, problems: [] });
  });

  it("reports a status url that says an unknown grant is active", async () => {
    // A receiver that signs correctly but answers "active" for anything: verifyRevoked would never succeed.
    const server = http.createServer((req, res) => {
      const body = JSON.stringify({
        grantId: new URL(req.url ?? "/", "http://x").searchParams.get("grantId"),
        active: true,
      });
      res.writeHead(200, signSesameAnswer(body, secret)).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const hooks = webhook(
      { url: receiver.url, secret, statusUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/status` },
      "hooks-always-active",
    );
    try {
      expect((await hooks.check()).problems).toEqual([
        expect.stringMatching(
          /^status check failed: .* answered HTTP 200 OK with "active": true for a grant id it cannot know: .*not as expected/,
        ),
      ]);
    } finally {
      await hooks.close?.();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("reports plain http:// to another machine", async () => {
    const password = "pa55w0rd-in-url";
    const remote = webhook(
      {
        url: "http://192.0.2.10:8080/hooks?token=abc",
        secret,
        statusUrl: `http://sesame:${password}@192.0.2.10/status`,
        timeoutSeconds: 0.2,
        retries: 0,
      },
      "hooks-remote",
    );
    const result = await remote.check();
    expect(result.ok).toBe(false);
    expect(result.problems.slice(0, 2)).toEqual([
      "url http://192.0.2.10:8080/hooks is plain http:// to another machine: credentials and grants travel unencrypted; use https",
      "statusUrl http://192.0.2.10/status is plain http:// to another machine: grant status travels unencrypted; use https",
    ]);
    expectNoSecret(result.problems, [secret, password, "abc"]);
    const secure = webhook(
      { url: "https://192.0.2.10/hooks", secret, timeoutSeconds: 0.2, retries: 0 },
      "hooks-secure",
    );
    expect((await secure.check()).problems).toEqual([expect.stringMatching(/^ping failed: /)]);
    await Promise.all([remote.close?.(), secure.close?.()]);
  });

  it("counts only this machine as loopback", () => {
    const loopback = (url: string) => isLoopbackHost(new URL(url).hostname);
    for (const url of [
      "http://localhost:8080/",
      "http://LOCALHOST./",
      "http://127.0.0.1/",
      "http://127.1.2.3/",
      "http://127.1/",
      "http://[::1]:9000/",
      "http://[::ffff:127.0.0.1]/",
    ]) {
      expect(loopback(url), url).toBe(true);
    }
    for (const url of [
      "http://10.0.0.1/",
      "http://0.0.0.0/",
      "http://hooks.example.com/",
      "http://localhost.example.com/",
      "http://api.localhost/",
      "http://[::ffff:10.0.0.1]/",
      "http://[fe80::1]/",
      "http://128.0.0.1/",
    ]) {
      expect(loopback(url), url).toBe(false);
    }
  });
});
