import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The plumbing shared by the local HTTP stand-ins for REST APIs (Okta, Microsoft Graph, GitHub):
 * a loopback server, a call log, scripted answers that jump the queue (throttling, garbage), and a
 * hold that applies the next matching request and then never answers it, so a test can cut the
 * connection mid-call. Each stand-in supplies `route` speaking its documented API.
 */

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Scripted extends Answer {
  /** Only for requests this matches (e.g. "PUT /api/v1/groups"); default: the next request. */
  match?: string;
}

export const json = (status: number, value: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  body: JSON.stringify(value),
  headers: { "content-type": "application/json", ...headers },
});

const matches = (call: Call, pattern: string | undefined) =>
  pattern === undefined || `${call.method} ${call.path}`.startsWith(pattern);

export abstract class RestStandIn {
  readonly calls: Call[] = [];
  readonly #scripted: Scripted[] = [];
  #hold: { match: string; reached(): void } | undefined;
  readonly #held = new Set<http.ServerResponse>();
  readonly #server = http.createServer((request, response) => void this.#handle(request, response));
  protected base = "";

  /** Answers a request the way the real API would (authentication included). */
  protected abstract route(call: Call): Answer;

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.base;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  script(...answers: Scripted[]): void {
    this.#scripted.push(...answers);
  }

  /** Applies the next request matching `match`, then never answers it; resolves when it arrived. */
  holdNext(match: string): Promise<void> {
    return new Promise((reached) => {
      this.#hold = { match, reached };
    });
  }

  /** Never answers requests matching `match` (a target that accepts but hangs). */
  hang(match: string): void {
    this.#hangs.push(match);
  }
  readonly #hangs: string[] = [];

  cutHeld(): void {
    for (const response of this.#held) response.socket?.destroy();
    this.#held.clear();
  }

  callsTo(pattern: string): Call[] {
    return this.calls.filter((call) => matches(call, pattern));
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = new URL(request.url ?? "/", "http://stand-in");
    const call: Call = {
      method: request.method ?? "GET",
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers: request.headers,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    this.calls.push(call);
    if (this.#hangs.some((pattern) => matches(call, pattern))) {
      this.#held.add(response);
      return;
    }
    const index = this.#scripted.findIndex((answer) => matches(call, answer.match));
    if (index >= 0) {
      const [answer] = this.#scripted.splice(index, 1);
      return this.#send(response, answer!);
    }
    const answer = this.route(call);
    if (this.#hold !== undefined && matches(call, this.#hold.match)) {
      const { reached } = this.#hold;
      this.#hold = undefined;
      this.#held.add(response);
      reached();
      return;
    }
    this.#send(response, answer);
  }

  #send(response: http.ServerResponse, answer: Answer): void {
    response.writeHead(answer.status, answer.headers ?? {});
    response.end(answer.body ?? "");
  }
}
