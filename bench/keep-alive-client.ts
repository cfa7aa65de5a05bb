import { Agent, request } from "node:http";

/**
 * A lean HTTP client for high request rates: keep-alive sockets, at most `maxSockets` at once
 * (later requests wait in the agent, and an open-loop driver counts that wait), and far less CPU
 * per request than fetch, which matters when the bench shares two cores with Sesame.
 */
export interface KeepAliveClient {
  send(
    method: "GET" | "POST",
    url: string,
    body?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; text: string }>;
  close(): void;
}

export function createKeepAliveClient(maxSockets = 64, timeoutMs = 10_000): KeepAliveClient {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    send(method, url, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const req = request(
          url,
          {
            method,
            agent,
            headers:
              body === undefined
                ? headers
                : { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("error", reject);
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          },
        );
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on("error", reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
