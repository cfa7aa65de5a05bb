import type { WebClient } from "@slack/web-api";
import type { ChatContext } from "../core/chat-context.js";
import { type ChatUser, resolveChatUser } from "../core/chat-identity.js";
import { errorText } from "./slack-errors.js";
import { rememberWorkspace } from "./slack-people.js";

/**
 * The Sesame identity behind a verified Slack payload's user id: the explicit link, else the
 * account's email from `users.info` matched against the policy's people. Nothing a payload
 * carries in a button value or form field is ever used for this.
 */
export async function slackActor(
  context: ChatContext,
  client: WebClient,
  userId: string,
  workspace: string | undefined,
): Promise<ChatUser> {
  const user = await resolveChatUser(context.store, "slack", userId, async () => {
    try {
      return (await client.users.info({ user: userId })).user?.profile?.email ?? undefined;
    } catch (error) {
      context.logger.warn(
        { userId, error: errorText(error) },
        "users.info failed; cannot match the Slack user by email",
      );
      return undefined;
    }
  });
  if (user.identityId) await rememberWorkspace(context.store, userId, workspace);
  return user;
}
