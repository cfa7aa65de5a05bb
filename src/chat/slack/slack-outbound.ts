import { z } from "zod";
import type { Logger } from "../../services/ports.js";
import type { Card } from "../core/card-model.js";
import type { MessageAddress, Recipient } from "../core/chat-adapter.js";
import type { ChatStore } from "../core/chat-store.js";
import { mrkdwn } from "./block-kit-limits.js";
import { cardBlocks, cardFallbackText } from "./card-blocks.js";
import { createChannelPacer, type SharedPace } from "./channel-pacer.js";
import { errorText, slackErrorCode, UNREACHABLE } from "./slack-errors.js";
import { findSlackPerson } from "./slack-people.js";
import type { SlackWorkspaces } from "./slack-workspaces.js";

/**
 * Posting and updating cards. Slack allows about one message per second per channel, so calls
 * are paced per channel, across all Sesame processes (channel-pacer.ts); a 429 is retried by the
 * Web API client after its Retry-After. Anything else that fails is thrown, and the chat queue retries the job.
 */

const SlackAddressSchema = z.object({
  workspace: z.string().optional(),
  channel: z.string().min(1),
  ts: z.string().min(1),
  /** The person a DM went to: DMs are paced per person. */
  user: z.string().optional(),
});
export type SlackAddress = z.infer<typeof SlackAddressSchema>;

export interface SlackOutbound {
  post(to: Recipient, card: Card): Promise<MessageAddress | null>;
  update(address: MessageAddress, card: Card): Promise<void>;
  /** A message that notifies: a reply in the card's thread mentioning the person, or a DM when there is no card. */
  remind(to: { identityId: string }, card: MessageAddress | null, text: string): Promise<boolean>;
  stop(): Promise<void>;
}

export function createSlackOutbound(options: {
  workspaces: SlackWorkspaces;
  store: ChatStore;
  logger: Logger;
  minIntervalMs: number;
  /** Redis shared by every Sesame process, so they pace a channel together (local pacing without it). */
  shared?: SharedPace;
}): SlackOutbound {
  const { workspaces, store, logger } = options;
  const pace = createChannelPacer({
    intervalMs: options.minIntervalMs,
    logger,
    ...(options.shared ? { shared: options.shared } : {}),
  });
  const paced = <T>(workspace: string | undefined, channel: string, work: () => Promise<T>): Promise<T> =>
    pace.schedule(`${workspace ?? ""}/${channel}`, work);
  const message = (card: Card) => ({ text: cardFallbackText(card), blocks: cardBlocks(card) });

  async function postTo(
    workspace: string | undefined,
    channel: string,
    card: Card,
    user?: string,
  ): Promise<SlackAddress | null> {
    const client = await workspaces.client(workspace);
    if (!client) return null;
    try {
      const result = await paced(workspace, user ?? channel, () =>
        client.chat.postMessage({ channel, ...message(card), unfurl_links: false, unfurl_media: false }),
      );
      if (!result.channel || !result.ts) throw new Error("chat.postMessage answered without channel and ts");
      return { ...(workspace ? { workspace } : {}), channel: result.channel, ts: result.ts, ...(user ? { user } : {}) };
    } catch (error) {
      if (!UNREACHABLE.has(slackErrorCode(error) ?? "")) throw error;
      logger.warn({ workspace, channel, error: errorText(error) }, "Slack recipient not reachable");
      return null;
    }
  }

  return {
    async post(to, card) {
      if ("channel" in to) {
        for (const workspace of await workspaces.candidates(undefined)) {
          const address = await postTo(workspace, to.channel, card);
          if (address) return address;
        }
        return null;
      }
      const person = await findSlackPerson(store, workspaces, to.identityId);
      if (!person) return null;
      // A DM to a user id opens (or reuses) the bot's direct conversation with them.
      return postTo(person.workspace, person.userId, card, person.userId);
    },
    async update(raw, card) {
      const address = SlackAddressSchema.parse(raw);
      const client = await workspaces.client(address.workspace);
      if (!client) {
        logger.warn({ workspace: address.workspace }, "Slack workspace no longer installed; card not updated");
        return;
      }
      try {
        await paced(address.workspace, address.user ?? address.channel, () =>
          client.chat.update({ channel: address.channel, ts: address.ts, ...message(card) }),
        );
      } catch (error) {
        if (!UNREACHABLE.has(slackErrorCode(error) ?? "")) throw error;
        logger.warn(
          { channel: address.channel, error: errorText(error) },
          "Slack card could not be updated (gone); skipped",
        );
      }
    },
    async remind(to, card, text) {
      const person = await findSlackPerson(store, workspaces, to.identityId);
      if (!person) return false;
      const thread = card ? SlackAddressSchema.safeParse(card) : undefined;
      const where = thread?.success ? thread.data : undefined;
      const client = await workspaces.client(where?.workspace ?? person.workspace);
      if (!client) return false;
      const channel = where?.channel ?? person.userId;
      try {
        await paced(where?.workspace ?? person.workspace, where?.user ?? person.userId, () =>
          client.chat.postMessage({
            channel,
            text: `<@${person.userId}> ${mrkdwn(text)}`,
            ...(where ? { thread_ts: where.ts } : {}),
            unfurl_links: false,
            unfurl_media: false,
          }),
        );
        return true;
      } catch (error) {
        if (!UNREACHABLE.has(slackErrorCode(error) ?? "")) throw error;
        logger.warn({ channel, error: errorText(error) }, "Slack recipient not reachable; reminder not sent");
        return false;
      }
    },
    async stop() {
      await pace.stop();
    },
  };
}
