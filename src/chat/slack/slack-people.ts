import type { WebClient } from "@slack/web-api";
import type { ChatStore } from "../core/chat-store.js";
import { slackErrorCode } from "./slack-errors.js";
import type { SlackWorkspaces } from "./slack-workspaces.js";

/**
 * Finds a person's Slack account for a direct message: the linked user id (policy `slack:` or
 * learned earlier), else `users.lookupByEmail` with their policy email, which is then remembered.
 * With several workspaces, the one a user last used Sesame from is remembered as a conversation
 * record ({ workspace }) and tried first.
 */

export interface SlackPerson {
  workspace: string | undefined;
  userId: string;
}

const NOT_FOUND = new Set(["users_not_found", "user_not_found"]);

async function exists(client: WebClient, userId: string): Promise<boolean> {
  try {
    return (await client.users.info({ user: userId })).ok === true;
  } catch (error) {
    if (NOT_FOUND.has(slackErrorCode(error) ?? "")) return false;
    throw error;
  }
}

async function byEmail(client: WebClient, email: string): Promise<string | undefined> {
  try {
    return (await client.users.lookupByEmail({ email })).user?.id;
  } catch (error) {
    if (NOT_FOUND.has(slackErrorCode(error) ?? "")) return undefined;
    throw error;
  }
}

export async function rememberWorkspace(
  store: ChatStore,
  userId: string,
  workspace: string | undefined,
): Promise<void> {
  if (!workspace) return;
  const known = await store.conversation("slack", userId);
  if (known?.workspace !== workspace) await store.saveConversation("slack", userId, { workspace });
}

export async function findSlackPerson(
  store: ChatStore,
  workspaces: SlackWorkspaces,
  identityId: string,
): Promise<SlackPerson | null> {
  const linked = await store.accountForIdentity("slack", identityId);
  const likely = linked ? (await store.conversation("slack", linked))?.workspace : undefined;
  if (linked && (!workspaces.multi || typeof likely === "string"))
    return { workspace: typeof likely === "string" ? likely : undefined, userId: linked };
  const email = await store.emailOf(identityId);
  for (const workspace of await workspaces.candidates(typeof likely === "string" ? likely : undefined)) {
    const client = await workspaces.client(workspace);
    if (!client) continue;
    const userId = linked
      ? (await exists(client, linked))
        ? linked
        : undefined
      : email
        ? await byEmail(client, email)
        : undefined;
    if (!userId) continue;
    if (!linked) await store.linkAccount("slack", userId, identityId);
    await rememberWorkspace(store, userId, workspace);
    return { workspace, userId };
  }
  return null;
}
