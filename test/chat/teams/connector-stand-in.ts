import { createServer, type IncomingMessage, type Server } from "node:http";

/**
 * A local stand-in for the Bot Connector API (the activity's `serviceUrl`): records what the bot
 * sends, updates and looks up, and answers roster look-ups (TeamsInfo.getMember) from `members`.
 */

export interface SentActivity {
  conversationId: string;
  /** Set when the activity was sent as a reply (POST …/activities/{replyToId}). */
  replyToId?: string;
  id: string;
  activity: Record<string, any>;
}

export interface UpdatedActivity {
  conversationId: string;
  activityId: string;
  activity: Record<string, any>;
}

export interface Member {
  id: string;
  aadObjectId: string;
  name: string;
  email?: string;
  userPrincipalName?: string;
}

export interface ConnectorStandIn {
  url: string;
  sent: SentActivity[];
  updated: UpdatedActivity[];
  memberLookups: string[];
  members: Map<string, Member>;
  /** Cards (attachment contents) sent into one conversation, oldest first. */
  cardsIn(conversationId: string): { id: string; card: Record<string, any> }[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Record<string, any>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? (JSON.parse(text) as Record<string, any>) : {};
}

export async function startConnectorStandIn(): Promise<ConnectorStandIn> {
  const sent: SentActivity[] = [];
  const updated: UpdatedActivity[] = [];
  const memberLookups: string[] = [];
  const members = new Map<string, Member>();
  let next = 0;
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (parts[0] !== "v3" || parts[1] !== "conversations")
      return json(404, { error: `unexpected ${req.method} ${path}` });
    const conversationId = parts[2] ?? "";
    if (req.method === "POST" && parts[3] === "activities") {
      const id = `activity-${++next}`;
      sent.push({ conversationId, id, activity: await body(req), ...(parts[4] ? { replyToId: parts[4] } : {}) });
      return json(200, { id });
    }
    if (req.method === "PUT" && parts[3] === "activities" && parts[4]) {
      updated.push({ conversationId, activityId: parts[4], activity: await body(req) });
      return json(200, { id: parts[4] });
    }
    if (req.method === "GET" && parts[3] === "members" && parts[4]) {
      memberLookups.push(parts[4]);
      const member = members.get(parts[4]);
      return member
        ? json(200, member)
        : json(404, { error: { code: "MemberNotFoundInConversation", message: "not found" } });
    }
    return json(404, { error: `unexpected ${req.method} ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    updated,
    memberLookups,
    members,
    cardsIn: (conversationId) =>
      sent
        .filter((s) => s.conversationId === conversationId)
        .flatMap((s) =>
          (s.activity.attachments ?? []).map((a: Record<string, any>) => ({
            id: s.id,
            card: a.content as Record<string, any>,
          })),
        ),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
