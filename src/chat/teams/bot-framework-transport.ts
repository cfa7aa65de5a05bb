import {
  type Activity,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  type ConversationReference,
  TeamsInfo,
  type TurnContext,
} from "botbuilder";
import type { TeamsMode } from "../../config/chat-env.js";

/**
 * The only module that imports `botbuilder`. The Bot Framework SDK is out of support since the
 * end of 2025; its successors (Microsoft 365 Agents SDK, Teams SDK) speak the same wire protocol,
 * so moving means rewriting this file alone. Everything else sees `TeamsTurn` and plain JSON.
 */

export interface OutgoingMessage {
  text?: string;
  /** Adaptive Card JSON objects, sent as attachments. */
  cards?: Record<string, unknown>[];
  /** `<at>…</at>` mentions used in `text` (channel posts). */
  mentions?: { text: string; id: string; name: string }[];
}

/** One inbound activity (or a proactive turn), as the rest of the adapter sees it. */
export interface TeamsTurn {
  /** The raw activity JSON; the caller parses it with zod. */
  readonly activity: unknown;
  /** Sends into the turn's conversation; returns the new activity id. */
  send(message: OutgoingMessage): Promise<string | undefined>;
  update(activityId: string, message: OutgoingMessage): Promise<void>;
  /** The HTTP answer to an invoke activity (sent in the same HTTP response). */
  respond(status: number, body: unknown): Promise<void>;
  /** The verified email (or UPN) of a conversation member, from the Teams roster API. */
  memberEmail(userId: string): Promise<string | undefined>;
}

export interface InvokeResult {
  status: number;
  body?: unknown;
}

export interface TeamsTransport {
  /** Authenticates and runs one inbound activity. Throws `{ statusCode: 401 }` when authentication fails. */
  process(
    authorization: string,
    activity: Record<string, unknown>,
    logic: (turn: TeamsTurn) => Promise<void>,
  ): Promise<InvokeResult | undefined>;
  /** A proactive turn in a stored conversation. */
  continue(reference: Record<string, unknown>, logic: (turn: TeamsTurn) => Promise<void>): Promise<void>;
}

class SesameCloudAdapter extends CloudAdapter {
  run(
    authorization: string,
    activity: Activity,
    logic: (context: TurnContext) => Promise<void>,
  ): Promise<InvokeResult | undefined> {
    return this.processActivity(authorization, activity, logic);
  }
}

function toActivity(message: OutgoingMessage): Partial<Activity> {
  return {
    type: "message",
    ...(message.text ? { text: message.text, textFormat: "markdown" } : {}),
    ...(message.cards?.length
      ? {
          attachments: message.cards.map((content) => ({
            contentType: "application/vnd.microsoft.card.adaptive",
            content,
          })),
        }
      : {}),
    ...(message.mentions?.length
      ? {
          entities: message.mentions.map((m) => ({
            type: "mention",
            text: m.text,
            mentioned: { id: m.id, name: m.name },
          })),
        }
      : {}),
  };
}

function turnOf(context: TurnContext): TeamsTurn {
  return {
    activity: context.activity,
    async send(message) {
      return (await context.sendActivity(toActivity(message)))?.id;
    },
    async update(activityId, message) {
      await context.updateActivity({ ...toActivity(message), id: activityId });
    },
    async respond(status, body) {
      await context.sendActivity({ type: "invokeResponse", value: { status, body } });
    },
    async memberEmail(userId) {
      const member = await TeamsInfo.getMember(context, userId);
      return member.email ?? member.userPrincipalName ?? undefined;
    },
  };
}

export function createBotFrameworkTransport(mode: Exclude<TeamsMode, { kind: "off" }>): TeamsTransport {
  // Single-tenant only: Azure no longer offers new multi-tenant bot registrations.
  const auth =
    mode.kind === "authenticated"
      ? new ConfigurationBotFrameworkAuthentication({
          MicrosoftAppId: mode.appId,
          MicrosoftAppPassword: mode.appPassword,
          MicrosoftAppTenantId: mode.tenantId,
          MicrosoftAppType: "SingleTenant",
        })
      : new ConfigurationBotFrameworkAuthentication({});
  const adapter = new SesameCloudAdapter(auth);
  const appId = mode.kind === "authenticated" ? mode.appId : "";
  return {
    process: (authorization, activity, logic) =>
      adapter.run(authorization, activity as unknown as Activity, (context) => logic(turnOf(context))),
    continue: (reference, logic) =>
      adapter.continueConversationAsync(appId, reference as unknown as ConversationReference, (context) =>
        logic(turnOf(context)),
      ),
  };
}
