import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A webhook receiver as a user would write one, on 127.0.0.1 and a random port. It checks the
 * signature and signs its answers with its own code (the README's snippets, not the connector's),
 * answers a repeated Idempotency-Key with its first answer, and keeps the active grants per
 * principal: that state is the "access" the tests observe.
 */

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

/**
 * Answers given before any processing, one per request: an overloaded or broken receiver, or
 * something else on the path. Unsigned unless `sign` is set (then signed with the receiver's
 * secret, like its own answers); `headers` go last, so a test can also sign wrong.
 */
export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
  sign?: boolean;
}

interface Answer {
  status: number;
  body: unknown;
}

/**
 * How far a held request gets before the test cuts it: `unanswered` is never processed nor
 * answered; `mid-answer` is processed, and its status line and the first half of its body are sent.
 */
export type HoldStage = "unanswered" | "mid-answer";

export interface WebhookReceiver {
  url: string;
  statusUrl: string;
  requests: ReceivedRequest[];
  script(...answers: ScriptedAnswer[]): void;
  /** Holds the next request at `stage`; resolves once it is held. */
  holdNext(stage: HoldStage): Promise<void>;
  /**
   * Closes the connection of every held request as the kernel does when the receiver's process
   * dies: what was sent (half an answer) still arrives, then the connection ends.
   */
  cutHeld(): void;
  /** Active grant ids of a principal. */
  grantsOf(principal: string): string[];
  removeOutOfBand(principal: string, grantId: string): void;
  close(): Promise<void>;
}

/** Copies of the README's Node snippets: what receivers are told to run. */
function verifySesame(headers: http.IncomingHttpHeaders, payload: string, secret: string, now = Date.now()): boolean {
  const timestamp = String(headers["x-sesame-timestamp"] ?? "");
  if (!/^\d+$/.test(timestamp) || Math.abs(now / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`v1=${createHmac("sha256", secret).update(`${timestamp}.${payload}`).digest("hex")}`);
  const given = Buffer.from(String(headers["x-sesame-signature"] ?? ""));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function signSesameAnswer(body: string, secret: string, now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const signature = `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
  return { "Content-Type": "application/json", "X-Sesame-Timestamp": timestamp, "X-Sesame-Signature": signature };
}

export async function createWebhookReceiver(
  secret: string,
  options: { issueCredentials?: boolean } = {},
): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const scripted: ScriptedAnswer[] = [];
  const grants = new Map<string, Map<string, unknown>>();
  const answered = new Map<string, Answer>();
  let hold: { stage: HoldStage; reached(): void } | undefined;
  const held = new Set<http.IncomingMessage>();

  function handle(request: ReceivedRequest): Answer {
    const url = new URL(request.path, "http://receiver");
    if (request.method === "GET" && url.pathname === "/status") {
      const grantId = url.searchParams.get("grantId") ?? "";
      if (!verifySesame(request.headers, grantId, secret)) return { status: 401, body: { error: "bad signature" } };
      return { status: 200, body: { grantId, active: [...grants.values()].some((held) => held.has(grantId)) } };
    }
    if (!verifySesame(request.headers, request.body, secret)) return { status: 401, body: { error: "bad signature" } };
    const key = String(request.headers["idempotency-key"] ?? "");
    const previous = answered.get(key);
    if (previous !== undefined) return previous;
    const answer = apply(JSON.parse(request.body) as Record<string, unknown>);
    answered.set(key, answer);
    return answer;
  }

  function apply(event: Record<string, unknown>): Answer {
    const principal = String(event.principal);
    const grantId = String(event.grantId);
    if (event.event === "ping") return { status: 200, body: { pong: true } };
    if (principal.startsWith("unknown-")) return { status: 422, body: { error: `no user ${principal}` } };
    const held = grants.get(principal) ?? new Map<string, unknown>();
    grants.set(principal, held);
    // Revoked now, or already gone (never granted, removed out of band): either way it is confirmed.
    if (event.event === "revoke") return { status: held.delete(grantId) ? 200 : 404, body: { grantId, revoked: true } };
    held.set(grantId, event.target);
    const credentials = options.issueCredentials
      ? { secret: { username: principal, password: randomBytes(12).toString("hex") } }
      : {};
    return { status: 201, body: { accessId: `acc-${grantId}`, ...credentials } };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request = {
        method: req.method ?? "",
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        receivedAt: Date.now(),
      };
      requests.push(request);
      if (hold !== undefined) {
        const { stage, reached } = hold;
        hold = undefined;
        if (stage === "mid-answer") {
          const answer = handle(request);
          const body = JSON.stringify(answer.body);
          res.writeHead(answer.status, signSesameAnswer(body, secret));
          res.write(body.slice(0, Math.floor(body.length / 2)));
        }
        held.add(req);
        return reached();
      }
      const next = scripted.shift();
      const answer = next ?? handle(request);
      const send = () => {
        if (req.socket.destroyed) return; // the client gave up waiting
        // Every answer of the receiver itself is signed; scripted ones only when asked to.
        const body = next === undefined ? JSON.stringify(answer.body) : (next.body ?? "");
        const signed = next === undefined || next.sign === true ? signSesameAnswer(body, secret) : {};
        res.writeHead(answer.status, { "Content-Type": "application/json", ...signed, ...(next?.headers ?? {}) });
        res.end(body);
      };
      if (next?.delayMs) setTimeout(send, next.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: `${base}/hooks/sesame`,
    statusUrl: `${base}/status`,
    requests,
    script: (...answers) => void scripted.push(...answers),
    holdNext: (stage) =>
      new Promise<void>((reached) => {
        hold = { stage, reached };
      }),
    cutHeld() {
      for (const request of held) request.socket.end();
      held.clear();
    },
    grantsOf: (principal) => [...(grants.get(principal)?.keys() ?? [])],
    removeOutOfBand: (principal, grantId) => void grants.get(principal)?.delete(grantId),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
