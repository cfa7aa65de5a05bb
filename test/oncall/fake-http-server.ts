import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The shared half of the fake PagerDuty and Opsgenie: a local HTTP server on 127.0.0.1 that
 * records every request and can be told to misbehave (an error status, Retry-After, no answer,
 * a body that is not JSON) before the fake's own handler gets a say.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON when the body was JSON, the raw text otherwise (undefined when empty). */
  body: unknown;
  receivedAt: number;
}

export interface FakeAnswer {
  status: number;
  body: unknown;
}

/** How many requests a misbehaviour lasts: a number, or every request until `heal()`. */
export interface Times {
  times?: number;
}

export interface FakeServerControls {
  url: string;
  requests: RecordedRequest[];
  failWith(status: number, options?: Times & { retryAfter?: number | string; body?: string }): void;
  /** Accepts the request and never answers: the client's timeout is what ends it. */
  hang(options?: Times): void;
  /** 200 with a body that is not JSON (or the given text). */
  answerGarbage(options?: Times & { body?: string }): void;
  heal(): void;
  /** Heals and forgets the recorded requests (the fakes also forget their state). */
  reset(): void;
  close(): Promise<void>;
}

type Fault =
  | { kind: "status"; status: number; retryAfter?: string; body?: string }
  | { kind: "hang" }
  | { kind: "garbage"; body: string };

export async function startFakeServer(handle: (request: RecordedRequest) => FakeAnswer): Promise<FakeServerControls> {
  const requests: RecordedRequest[] = [];
  let fault: { fault: Fault; remaining: number } | undefined;
  const misbehave = (next: Fault, options: Times = {}) => {
    fault = { fault: next, remaining: options.times ?? Number.POSITIVE_INFINITY };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const text = Buffer.concat(chunks).toString("utf8");
      const request = {
        method: req.method ?? "",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: parseBody(text),
        receivedAt: Date.now(),
      };
      requests.push(request);
      const current = fault?.fault;
      if (fault !== undefined) {
        fault.remaining -= 1;
        if (fault.remaining <= 0) fault = undefined;
      }
      if (current?.kind === "hang") return;
      if (current?.kind === "garbage")
        return void res.writeHead(200, { "Content-Type": "application/json" }).end(current.body);
      if (current?.kind === "status") {
        const headers = {
          "Content-Type": "application/json",
          ...(current.retryAfter === undefined ? {} : { "Retry-After": current.retryAfter }),
        };
        return void res
          .writeHead(current.status, headers)
          .end(current.body ?? JSON.stringify({ message: `scripted ${current.status}` }));
      }
      const answer = handle(request);
      res.writeHead(answer.status, { "Content-Type": "application/json" }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    failWith: (status, options = {}) =>
      misbehave(
        {
          kind: "status",
          status,
          ...(options.retryAfter === undefined ? {} : { retryAfter: String(options.retryAfter) }),
          ...(options.body === undefined ? {} : { body: options.body }),
        },
        options,
      ),
    hang: (options) => misbehave({ kind: "hang" }, options),
    answerGarbage: (options = {}) =>
      misbehave({ kind: "garbage", body: options.body ?? "<html>upstream error</html>" }, options),
    heal: () => {
      fault = undefined;
    },
    reset() {
      fault = undefined;
      requests.length = 0;
    },
    async close() {
      server.closeAllConnections(); // hung requests included
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
