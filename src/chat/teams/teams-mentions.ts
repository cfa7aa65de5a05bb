import type { ChatContext } from "../core/chat-context.js";
import type { OutgoingMessage } from "./bot-framework-transport.js";
import { storedReference } from "./teams-conversations.js";

/**
 * Approvers Sesame cannot message directly (they never opened a chat with the bot) are
 * @mentioned on the channel post, so Teams notifies them there instead.
 */
export async function unreachableMentions(
  context: ChatContext,
  identityIds: string[],
): Promise<Pick<OutgoingMessage, "text" | "mentions">> {
  const book = context.deps.policy();
  const mentions: NonNullable<OutgoingMessage["mentions"]> = [];
  for (const identityId of identityIds) {
    const aad = await context.store.accountForIdentity("teams", identityId);
    if (!aad || (await storedReference(context.store, aad))) continue;
    const name = (book.person(identityId)?.name ?? identityId).replace(/[<>]/g, "");
    mentions.push({ text: `<at>${name}</at>`, id: aad, name });
  }
  if (mentions.length === 0) return {};
  return {
    text: `${mentions.map((m) => m.text).join(", ")}: your approval is asked for below. Open a personal chat with Sesame to get these cards directly.`,
    mentions,
  };
}
