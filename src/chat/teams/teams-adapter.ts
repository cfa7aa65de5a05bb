import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { TeamsMode } from "../../config/chat-env.js";
import type { Card } from "../core/card-model.js";
import { type ChatAdapter, type MessageAddress, type Recipient, recipientKey } from "../core/chat-adapter.js";
import type { ChatContext } from "../core/chat-context.js";
import { escapeMarkdown } from "./adaptive-card.js";
import { createBotFrameworkTransport, type OutgoingMessage, type TeamsTransport } from "./bot-framework-transport.js";
import { createTeamsBot } from "./teams-bot.js";
import { cardFor } from "./teams-card-actions.js";
import { type ConversationReference, ReferenceSchema, storedReference } from "./teams-conversations.js";
import { createTeamsIntake } from "./teams-intake.js";
import { unreachableMentions } from "./teams-mentions.js";
import { messagesRoute } from "./teams-route.js";

/**
 * Sesame's Microsoft Teams adapter: `POST /api/messages` in, proactive messages out. Cards go to
 * a person's personal chat with the bot (its stored conversation reference) or a policy's
 * channel; a person Sesame has never talked with cannot be messaged first (Teams needs the app
 * installed for them), which the dispatcher logs.
 */

const AddressSchema = z.object({
  reference: ReferenceSchema,
  activityId: z.string().min(1),
  recipient: z.string().min(1),
});

export function createTeamsAdapter(
  context: ChatContext,
  mode: Exclude<TeamsMode, { kind: "off" }>,
  transport: TeamsTransport = createBotFrameworkTransport(mode),
): ChatAdapter {
  const bot = createTeamsBot(context);
  const intakeHandle = createTeamsIntake(context, transport, bot);

  async function send(reference: ConversationReference, message: OutgoingMessage): Promise<string> {
    let id: string | undefined;
    await transport.continue(reference, async (turn) => {
      id = await turn.send(message);
    });
    if (!id) throw new Error("Teams accepted the message but returned no activity id");
    return id;
  }

  /** A personal copy shows buttons to its recipient; a channel copy is read-only and refreshes to live buttons for the approvers. */
  const render = (card: Card, recipient: string) =>
    cardFor(context, card, recipient.startsWith("channel:") ? null : recipient);

  return {
    platform: "teams",
    async registerRoutes(app: FastifyInstance) {
      messagesRoute(app, { mode, transport, logger: context.logger, handle: intakeHandle });
    },
    async start() {},
    async stop() {},
    async post(to: Recipient, card: Card): Promise<MessageAddress | null> {
      if ("channel" in to) {
        const key = recipientKey(to);
        const reference = await storedReference(context.store, key);
        if (!reference) {
          context.logger.warn(
            { channel: to.channel },
            "no Teams conversation known for this approval channel: add Sesame to its team, or @mention Sesame once in the channel",
          );
          return null;
        }
        const mentions = await unreachableMentions(context, card.actionableBy);
        const message: OutgoingMessage = { cards: [await render(card, key)], ...mentions };
        return { reference, activityId: await send(reference, message), recipient: key };
      }
      const aad = await context.store.accountForIdentity("teams", to.identityId);
      const reference = aad ? await storedReference(context.store, aad) : null;
      if (!reference) return null;
      return {
        reference,
        activityId: await send(reference, { cards: [await render(card, to.identityId)] }),
        recipient: to.identityId,
      };
    },
    /** A new message in the person's chat with Sesame (where their card is), or in the channel mentioning them: Teams notifies of either. */
    async remind(to, card, text) {
      const parsed = card ? AddressSchema.safeParse(card) : undefined;
      const address = parsed?.success ? parsed.data : undefined;
      const aad = await context.store.accountForIdentity("teams", to.identityId);
      // Only the channel's copy: @mention them there, as the card itself did.
      if (address?.recipient.startsWith("channel:")) {
        if (!aad) return false;
        const name = (context.deps.policy().person(to.identityId)?.name ?? to.identityId).replace(/[<>]/g, "");
        const mention = { text: `<at>${name}</at>`, id: aad, name };
        await send(address.reference, { text: `${mention.text} ${escapeMarkdown(text)}`, mentions: [mention] });
        return true;
      }
      const reference = address?.reference ?? (aad ? await storedReference(context.store, aad) : null);
      if (!reference) return false;
      await send(reference, { text: escapeMarkdown(text) });
      return true;
    },
    async update(address: MessageAddress, card: Card): Promise<void> {
      const parsed = AddressSchema.parse(address);
      const message = { cards: [await render(card, parsed.recipient)] };
      await transport.continue(parsed.reference, (turn) => turn.update(parsed.activityId, message));
    },
  };
}
