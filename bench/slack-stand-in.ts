import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { parse as parseQuery } from "node:querystring";

/**
 * A local stand-in for Slack's Web API (the methods Sesame calls, answered `{ ok: true }` with
 * the fields Bolt reads) and for `response_url`: no real Slack is reachable from the bench.
 * It counts ephemeral answers and keeps each response_url reply by its path.
 */

export interface SlackBenchStandIn {
  apiUrl: string;
  responseUrl(id: string): string;
  /** response_url path id → the texts posted there. */
  replies: Map<string, string[]>;
  ephemerals: string[];
  calls: number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return {};
  if ((req.headers["content-type"] ?? "").includes("application/json")) return JSON.parse(text);
  return parseQuery(text) as Record<string, unknown>;
}

export async function startSlackBenchStandIn(): Promise<SlackBenchStandIn> {
  const replies = new Map<string, string[]>();
  const ephemerals: string[] = [];
  let ts = 0;
  const state = { calls: 0 };
  const server = createServer((req, res) => {
    void (async () => {
      state.calls += 1;
      const body = await readBody(req);
      const path = req.url ?? "/";
      const answer = (value: Record<string, unknown>) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (path.startsWith("/respond/")) {
        const id = path.slice("/respond/".length);
        replies.set(id, [...(replies.get(id) ?? []), String(body.text ?? "")]);
        return answer({ ok: true });
      }
      const method = path.replace(/^\/api\//, "").split("?")[0];
      switch (method) {
        case "auth.test":
          return answer({
            ok: true,
            user_id: "U0SESAMEBOT",
            bot_id: "B0SESAME",
            team_id: "T0BENCH",
            url: "https://bench.slack.com/",
          });
        case "chat.postEphemeral":
          ephemerals.push(String(body.text ?? ""));
          return answer({ ok: true, message_ts: `${Date.now() / 1000}` });
        case "chat.postMessage":
          ts += 1;
          return answer({
            ok: true,
            channel: String(body.channel ?? "D0"),
            ts: `1700000000.${String(ts).padStart(6, "0")}`,
          });
        case "chat.update":
          return answer({ ok: true, channel: String(body.channel ?? ""), ts: String(body.ts ?? "") });
        case "conversations.open":
          return answer({ ok: true, channel: { id: `D${String(body.users ?? "0")}` } });
        case "users.info":
          return answer({ ok: true, user: { id: String(body.user ?? ""), profile: { email: "" } } });
        default:
          return answer({ ok: true });
      }
    })().catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    apiUrl: `${base}/api/`,
    responseUrl: (id) => `${base}/respond/${id}`,
    replies,
    ephemerals,
    get calls() {
      return state.calls;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
