import { randomUUID } from "node:crypto";

/** Builds Teams-shaped activities and posts them over real HTTP to Sesame's /api/messages. */

export const TENANT = "5f0c4a2e-0d5b-4c1e-9a77-3b1f6e2d8c40";
export const BOT = { id: "28:sesame-bot", name: "Sesame" };

export interface TeamsUser {
  /** Sesame identity the user maps to. */
  identity: string;
  id: string;
  aadObjectId: string;
  name: string;
  email: string;
}

export function teamsUser(identity: string, aadObjectId: string = randomUUID()): TeamsUser {
  return {
    identity,
    id: `29:${identity}-mri`,
    aadObjectId,
    name: identity[0]!.toUpperCase() + identity.slice(1),
    email: `${identity}@example.com`,
  };
}

export const personalConversation = (user: TeamsUser): string => `a:personal-${user.identity}`;

export interface PostResult {
  status: number;
  body: any;
}

export class TeamsClient {
  constructor(
    private readonly baseUrl: string,
    readonly serviceUrl: string,
    private readonly headers: Record<string, string> = {},
    private readonly tenant: string = TENANT,
  ) {}

  base(user: TeamsUser, type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      type,
      id: `incoming-${randomUUID()}`,
      timestamp: new Date().toISOString(),
      serviceUrl: this.serviceUrl,
      channelId: "msteams",
      from: { id: user.id, name: user.name, aadObjectId: user.aadObjectId },
      recipient: BOT,
      conversation: { id: personalConversation(user), conversationType: "personal", tenantId: this.tenant },
      channelData: { tenant: { id: this.tenant } },
      locale: "en-US",
      ...extra,
    };
  }

  async post(activity: Record<string, unknown>): Promise<PostResult> {
    const response = await fetch(`${this.baseUrl}/api/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", ...this.headers },
      body: JSON.stringify(activity),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  message(user: TeamsUser, text: string): Promise<PostResult> {
    return this.post(this.base(user, "message", { text, textFormat: "plain" }));
  }

  /** An Action.Execute click (or an automatic refresh) on a card. */
  invoke(
    user: TeamsUser,
    verb: string,
    data: unknown,
    trigger: "manual" | "automatic" = "manual",
  ): Promise<PostResult> {
    return this.post(
      this.base(user, "invoke", {
        name: "adaptiveCard/action",
        value: { action: { type: "Action.Execute", verb, data }, trigger },
      }),
    );
  }

  /** An Action.Submit click (clients without Universal Actions): a message with `value`. */
  submit(user: TeamsUser, value: unknown, replyToId: string): Promise<PostResult> {
    return this.post(this.base(user, "message", { value, replyToId }));
  }

  installationUpdate(user: TeamsUser): Promise<PostResult> {
    return this.post(this.base(user, "installationUpdate", { action: "add" }));
  }

  conversationUpdate(user: TeamsUser): Promise<PostResult> {
    return this.post(this.base(user, "conversationUpdate", { membersAdded: [{ id: BOT.id }] }));
  }

  /** The bot added to a team: Teams announces it in the team's General channel. */
  addedToTeam(user: TeamsUser, teamId: string): Promise<PostResult> {
    return this.post(
      this.base(user, "conversationUpdate", {
        membersAdded: [{ id: BOT.id }],
        conversation: { id: teamId, conversationType: "channel", isGroup: true, tenantId: this.tenant },
        channelData: { tenant: { id: this.tenant }, team: { id: teamId }, eventType: "teamMemberAdded" },
      }),
    );
  }
}
