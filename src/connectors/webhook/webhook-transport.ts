import http from "node:http";
import https from "node:https";
import { errorCode } from "../redact.js";

/**
 * One HTTP exchange with the receiver, on node:http rather than fetch: fetch refuses URLs with
 * user:password and a list of "bad ports", and hides the socket error codes we report in words.
 */

export interface HttpRequest {
  method: "POST" | "GET";
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The answer was longer than `maxBodyBytes`; `body` holds only the start. */
  truncated: boolean;
}

export type TransportFailure = "unreachable" | "tls" | "timeout";

/**
 * A request that got no HTTP answer at all. `connected`: the connection (and TLS handshake) was up
 * when it failed, so the request may have reached the receiver; otherwise nothing was sent.
 */
export class TransportError extends Error {
  constructor(
    readonly kind: TransportFailure,
    message: string,
    readonly code?: string,
    readonly connected = false,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|EPROTO$)/;

export interface Transport {
  send(request: HttpRequest, options: { timeoutMs: number; maxBodyBytes: number }): Promise<HttpResponse>;
  close(): void;
}

export function createTransport(): Transport {
  // Own agents, so close() ends this connector's keep-alive sockets and nobody else's.
  const agents = { "http:": new http.Agent({ keepAlive: true }), "https:": new https.Agent({ keepAlive: true }) };
  return {
    send: (request, options) =>
      send(request, options, request.url.protocol === "https:" ? agents["https:"] : agents["http:"]),
    close: () => {
      for (const agent of Object.values(agents)) agent.destroy();
    },
  };
}

function send(
  request: HttpRequest,
  options: { timeoutMs: number; maxBodyBytes: number },
  agent: http.Agent,
): Promise<HttpResponse> {
  const client = request.url.protocol === "https:" ? https : http;
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  const headers = { ...request.headers, ...(body === undefined ? {} : { "Content-Length": String(body.length) }) };
  return new Promise((resolve, reject) => {
    let settled = false;
    let connected = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const fail = (error: unknown) => settle(() => reject(asTransportError(error, connected)));
    const req = client.request(request.url, { method: request.method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (truncated: boolean) =>
        settle(() =>
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? "",
            headers: res.headers,
            body: Buffer.concat(chunks),
            truncated,
          }),
        );
      res.on("data", (chunk: Buffer) => {
        chunks.push(chunk.subarray(0, Math.max(0, options.maxBodyBytes - size)));
        size += chunk.length;
        if (size > options.maxBodyBytes) {
          finish(true);
          res.destroy(); // stop downloading what we would throw away
        }
      });
      res.on("end", () => finish(false));
      res.on("error", fail);
    });
    const timer = setTimeout(() => {
      // Settle first: once the answer has started, destroying the request surfaces as a reset, not as ours.
      fail(new TransportError("timeout", "no answer in time", undefined, connected));
      req.destroy();
    }, options.timeoutMs);
    // Whether anything can have reached the receiver: the body is written only once this is up.
    req.on("socket", (socket) => {
      const ready = request.url.protocol === "https:" ? "secureConnect" : "connect";
      if (socket.connecting) socket.once(ready, () => (connected = true));
      else connected = true;
    });
    req.on("error", fail);
    req.end(body);
  });
}

function asTransportError(error: unknown, connected: boolean): TransportError {
  if (error instanceof TransportError) return error;
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const kind = code !== undefined && TLS_CODE.test(code) ? "tls" : "unreachable";
  return new TransportError(kind, message, code, connected);
}
