import type { ChatPlatform, MessageAddress } from "./chat-adapter.js";

/** What the chat layer keeps in the database (implemented in src/storage/chat-repository.ts). */
export interface ChatStore {
  /** The identity a platform account is linked to. */
  identityForAccount(platform: ChatPlatform, externalId: string): Promise<string | null>;
  /** The platform account of an identity, when linked. */
  accountForIdentity(platform: ChatPlatform, identityId: string): Promise<string | null>;
  identityByEmail(email: string): Promise<string | null>;
  emailOf(identityId: string): Promise<string | null>;
  linkAccount(platform: ChatPlatform, externalId: string, identityId: string): Promise<void>;

  saveMessage(platform: ChatPlatform, requestId: string, recipient: string, address: MessageAddress): Promise<void>;
  findMessage(platform: ChatPlatform, requestId: string, recipient: string): Promise<MessageAddress | null>;
  messagesFor(platform: ChatPlatform, requestId: string): Promise<{ recipient: string; address: MessageAddress }[]>;

  /** A grant card Sesame posted (`jobKey`: the chat job that posted it), to redraw when the grant moves on. */
  saveGrantMessage(platform: ChatPlatform, grantId: string, jobKey: string, address: MessageAddress): Promise<void>;
  grantMessagesFor(platform: ChatPlatform, grantId: string): Promise<MessageAddress[]>;

  /** Claims a message that must go out at most once; false when it was claimed before (sent, or being sent). */
  claimDelivery(key: string): Promise<boolean>;
  /** Gives a claim back after a send that failed, so the retried job may send it. */
  releaseDelivery(key: string): Promise<void>;

  /** Conversation references for proactive messages (Teams). `key`: the user's platform id or "channel:<id>". */
  saveConversation(platform: ChatPlatform, key: string, reference: Record<string, unknown>): Promise<void>;
  conversation(platform: ChatPlatform, key: string): Promise<Record<string, unknown> | null>;
}
