import type { FastifyInstance } from "fastify";
import type { Card } from "./card-model.js";

/**
 * The contract every chat platform implements. The core decides what to send and to whom
 * (`chat-deliveries.ts`); an adapter only knows how to reach people on its platform and how to
 * render a `Card`. Inbound traffic (commands, clicks) goes through `chat-interactions.ts`.
 */

export type ChatPlatform = "slack" | "teams";

/** A person (by Sesame identity) or a policy's approval channel (platform channel id). */
export type Recipient = { identityId: string } | { channel: string };

/** Where a posted message lives, in the adapter's own terms (Slack: team, channel, ts). Stored as JSON. */
export type MessageAddress = Record<string, unknown>;

export interface ChatAdapter {
  readonly platform: ChatPlatform;
  /** Adds the platform's HTTP endpoints to Sesame's server (web role only). */
  registerRoutes(app: FastifyInstance): Promise<void>;
  /** Opens long-lived connections (e.g. Slack Socket Mode); web role only. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Posts a card. Returns where it landed, or null when the recipient cannot be reached on this
   * platform (no account, bot not installed): that is logged, not retried. Throws to be retried.
   */
  post(to: Recipient, card: Card): Promise<MessageAddress | null>;
  /** Replaces a posted card in place. Throws to be retried. */
  update(address: MessageAddress, card: Card): Promise<void>;
  /**
   * Sends a person a message they are notified of (an edited card notifies nobody), about the card
   * at `card` when they have one: Slack replies in the card's thread mentioning them, Teams posts a
   * new message in the card's conversation. Without a card it is a new direct message. Returns
   * false when the person cannot be reached on this platform. Throws to be retried.
   */
  remind(to: { identityId: string }, card: MessageAddress | null, text: string): Promise<boolean>;
}

export const recipientKey = (to: Recipient): string => ("identityId" in to ? to.identityId : `channel:${to.channel}`);
