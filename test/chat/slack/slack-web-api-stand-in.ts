import { createServer, type IncomingMessage, type Server } from "node:http";
import { parse as parseQuery } from "node:querystring";

/**
 * A local HTTP server standing in for Slack's Web API (`SLACK_API_URL=<url>/api/`) and for
 * `response_url`s (`<url>/respond/<id>`). It records every call and answers `ok: true` with
 * plausible fields; a test can queue a failure (e.g. one 429 with Retry-After) for a method.
 */

export interface RecordedCall {
  /** The Web API method, or "response_url" for a POST to `/respond/<id>`. */
  method: string;
  path?: string;
  /** The bearer token the call was made with. */
  token?: string;
  params: Record<string, any>;
  /** What the stand-in answered. */
  result: Record<string, any>;
  at: number;
}

interface Failure {
  status: number;
  headers?: Record<string, string>;
  body: Record<string, unknown>;
  /** Only a call whose params match fails (the first call to the method by default). */
  when?: (params: Record<string, any>) => boolean;
}

export interface SlackStandIn {
  url: string;
  apiUrl: string;
  calls: RecordedCall[];
  /** Slack user id → email, for users.info and users.lookupByEmail. */
  users: Map<string, string>;
  callsTo(method: string): RecordedCall[];
  failNext(method: string, failure: Failure): void;
  responseUrl(id: string): string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Record<string, any>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return {};
  if ((req.headers["content-type"] ?? "").includes("application/json")) return JSON.parse(text);
  const form = parseQuery(text) as Record<string, any>;
  // The Web API client sends arrays and objects (blocks, view) as JSON text inside the form.
  for (const [key, value] of Object.entries(form)) {
    if (typeof value === "string" && /^[[{]/.test(value)) {
      try {
        form[key] = JSON.parse(value);
      } catch {
        // plain text that happens to start with a bracket
      }
    }
  }
  return form;
}

export async function startSlackStandIn(): Promise<SlackStandIn> {
  const calls: RecordedCall[] = [];
  const users = new Map<string, string>();
  const failures = new Map<string, Failure[]>();
  let ts = 0;
  const answer = (method: string, params: Record<string, any>): Record<string, unknown> => {
    switch (method) {
      case "auth.test":
        return {
          ok: true,
          url: "https://sesame-test.slack.com/",
          team: "Sesame Test",
          user: "sesame",
          team_id: "T0SESAME",
          user_id: "U0SESAMEBOT",
          bot_id: "B0SESAME",
        };
      case "users.info": {
        const email = users.get(String(params.user));
        return email
          ? { ok: true, user: { id: params.user, team_id: "T0SESAME", profile: { email } } }
          : { ok: false, error: "user_not_found" };
      }
      case "users.lookupByEmail": {
        const id = [...users].find(([, email]) => email === params.email)?.[0];
        return id ? { ok: true, user: { id, team_id: "T0SESAME" } } : { ok: false, error: "users_not_found" };
      }
      case "chat.postMessage": {
        const channel = String(params.channel);
        ts += 1;
        return {
          ok: true,
          channel: channel.startsWith("U") ? `D${channel.slice(1)}` : channel,
          ts: `${1_700_000_000 + ts}.000100`,
          message: { text: params.text },
        };
      }
      case "chat.update":
        return { ok: true, channel: params.channel, ts: params.ts };
      case "chat.postEphemeral":
        return { ok: true, message_ts: `${1_700_000_000 + ++ts}.000200` };
      case "views.open":
      case "views.publish":
        return { ok: true, view: { id: `V${++ts}` } };
      case "oauth.v2.access":
        return {
          ok: true,
          app_id: "A0SESAME",
          authed_user: { id: "U0ADMIN" },
          scope: "commands,chat:write,users:read,users:read.email",
          token_type: "bot",
          access_token: "xoxb-installed-secret-token",
          bot_user_id: "U0SESAMEBOT",
          team: { id: "T0OTHER", name: "Other" },
          enterprise: null,
          is_enterprise_install: false,
        };
      default:
        return { ok: true };
    }
  };
  const server: Server = createServer(async (req, res) => {
    const params = await readBody(req);
    const path = (req.url ?? "").split("?")[0] ?? "";
    const method = path.startsWith("/respond/") ? "response_url" : path.replace(/^\/api\//, "");
    const queued = failures.get(method) ?? [];
    const index = queued.findIndex((candidate) => candidate.when?.(params) ?? true);
    const failure = index === -1 ? undefined : queued.splice(index, 1)[0];
    const result = failure ? failure.body : method === "response_url" ? { ok: true } : answer(method, params);
    const token = req.headers.authorization?.replace(/^Bearer /, "");
    calls.push({ method, path, params, result, at: Date.now(), ...(token ? { token } : {}) });
    res.writeHead(failure?.status ?? 200, { "content-type": "application/json", ...failure?.headers });
    res.end(JSON.stringify(result));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    apiUrl: `${url}/api/`,
    calls,
    users,
    callsTo: (method) => calls.filter((call) => call.method === method),
    failNext(method, failure) {
      failures.set(method, [...(failures.get(method) ?? []), failure]);
    },
    responseUrl: (id) => `${url}/respond/${id}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
