import type { ChatPlatform } from "./chat-adapter.js";
import type { ChatStore } from "./chat-store.js";

/**
 * Platform account → Sesame identity. An explicit link (policy `slack:` / `teams:`, or one learned
 * earlier) wins; otherwise the account's verified email (from the platform's API, never from a
 * display name) must match a person in the policy file, and the link is remembered.
 */

export type ChatUser = { identityId: string } | { identityId: null; message: string };

const PLATFORM_NAME: Record<ChatPlatform, string> = { slack: "Slack", teams: "Microsoft Teams" };

export async function resolveChatUser(
  store: ChatStore,
  platform: ChatPlatform,
  externalId: string,
  lookupEmail: () => Promise<string | undefined>,
): Promise<ChatUser> {
  const linked = await store.identityForAccount(platform, externalId);
  if (linked) return { identityId: linked };
  const email = await lookupEmail();
  const byEmail = email ? await store.identityByEmail(email) : null;
  if (byEmail) {
    await store.linkAccount(platform, externalId, byEmail);
    return { identityId: byEmail };
  }
  const name = PLATFORM_NAME[platform];
  const field = `${platform}: ${externalId}`;
  const message = email
    ? `Sesame does not know you yet: no person in the policy file has your ${name} email (${email}). Ask a Sesame admin to add you to \`people\` with that email, or with \`${field}\`.`
    : `Sesame does not know you yet and could not read your ${name} email. Ask a Sesame admin to add you to \`people\` in the policy file with \`${field}\`.`;
  return { identityId: null, message };
}
