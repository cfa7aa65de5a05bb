import { z } from "zod";
import { recipientKey } from "../core/chat-adapter.js";
import type { ChatStore } from "../core/chat-store.js";
import { isPersonal, type TeamsActivity, tenantOf } from "./teams-activity.js";

/**
 * Conversation references: what Sesame needs to message someone later (proactively). Teams gives
 * one with every activity; Sesame keeps the latest per person (AAD object id) and per channel
 * (`channel:<id>`) in the database, so a restart loses nobody.
 */

export const ReferenceSchema = z.looseObject({
  serviceUrl: z.url({ protocol: /^https?$/ }),
  channelId: z.string().min(1),
  conversation: z.looseObject({ id: z.string().min(1) }),
  user: z.looseObject({ id: z.string().min(1), aadObjectId: z.string().optional() }).optional(),
  bot: z.looseObject({ id: z.string().min(1) }).optional(),
});
export type ConversationReference = z.infer<typeof ReferenceSchema>;

function personalReference(activity: TeamsActivity): ConversationReference {
  return {
    serviceUrl: activity.serviceUrl,
    channelId: activity.channelId,
    conversation: {
      id: activity.conversation.id,
      conversationType: "personal",
      ...(tenantOf(activity) ? { tenantId: tenantOf(activity) } : {}),
    },
    user: { id: activity.from.id, ...(activity.from.aadObjectId ? { aadObjectId: activity.from.aadObjectId } : {}) },
    bot: { id: activity.recipient.id, ...(activity.recipient.name ? { name: activity.recipient.name } : {}) },
    ...(activity.locale ? { locale: activity.locale } : {}),
  };
}

/** A new post in a channel (not a reply in someone's thread). */
function channelReference(activity: TeamsActivity, channelId: string): ConversationReference {
  const tenantId = tenantOf(activity);
  return {
    serviceUrl: activity.serviceUrl,
    channelId: activity.channelId,
    conversation: { id: channelId, isGroup: true, conversationType: "channel", ...(tenantId ? { tenantId } : {}) },
    bot: { id: activity.recipient.id, ...(activity.recipient.name ? { name: activity.recipient.name } : {}) },
  };
}

/** What this process last saved per store and key: every activity (card refreshes too) carries a reference, and most repeat the last one. */
const lastSaved = new WeakMap<ChatStore, Map<string, string>>();

async function saveIfChanged(store: ChatStore, key: string, reference: ConversationReference): Promise<void> {
  const saved = lastSaved.get(store) ?? new Map<string, string>();
  lastSaved.set(store, saved);
  const text = JSON.stringify(reference);
  if (saved.get(key) === text) return;
  await store.saveConversation("teams", key, reference);
  saved.set(key, text);
}

/** Saves what this activity teaches about reaching its sender or its channel. */
export async function rememberConversation(store: ChatStore, activity: TeamsActivity): Promise<void> {
  if (isPersonal(activity)) {
    if (activity.from.aadObjectId && activity.from.id !== activity.recipient.id)
      await saveIfChanged(store, activity.from.aadObjectId, personalReference(activity));
    return;
  }
  // In a team, the General channel's id is the team id; other channels name themselves.
  const channelId = activity.channelData?.channel?.id ?? activity.channelData?.team?.id;
  if (channelId)
    await saveIfChanged(store, recipientKey({ channel: channelId }), channelReference(activity, channelId));
}

export async function storedReference(store: ChatStore, key: string): Promise<ConversationReference | null> {
  const parsed = ReferenceSchema.safeParse(await store.conversation("teams", key));
  return parsed.success ? parsed.data : null;
}

/**
 * The ids Teams uses to show a card's live version (refresh.userIds) to these people: the Teams
 * user id (MRI) when Sesame has talked with them, otherwise their AAD object id.
 */
export async function teamsUserIds(store: ChatStore, identityIds: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const identityId of identityIds) {
    const aad = await store.accountForIdentity("teams", identityId);
    if (!aad) continue;
    const reference = await storedReference(store, aad);
    ids.push(reference?.user?.id ?? aad);
  }
  return [...new Set(ids)];
}
