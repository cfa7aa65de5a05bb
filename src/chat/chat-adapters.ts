import type { ChatModes } from "../config/chat-env.js";
import type { Env } from "../config/env.js";
import type { Database } from "../storage/prisma-client.js";
import type { ChatAdapter, ChatPlatform } from "./core/chat-adapter.js";
import type { ChatContext } from "./core/chat-context.js";
import { createSlackAdapter } from "./slack/slack-adapter.js";
import { createTeamsAdapter } from "./teams/teams-adapter.js";

/** Builds an adapter for every chat platform the environment configures. */

export interface ChatAdapterOptions {
  env: Env;
  modes: ChatModes;
  context: ChatContext;
  db: Database;
}

export function enabledPlatforms(modes: ChatModes): ChatPlatform[] {
  return (["slack", "teams"] as const).filter((platform) => modes[platform].kind !== "off");
}

export async function createChatAdapters(options: ChatAdapterOptions): Promise<ChatAdapter[]> {
  const adapters: ChatAdapter[] = [];
  if (options.modes.slack.kind !== "off")
    adapters.push(
      await createSlackAdapter({
        env: options.env,
        mode: options.modes.slack,
        context: options.context,
        db: options.db,
      }),
    );
  if (options.modes.teams.kind !== "off") adapters.push(createTeamsAdapter(options.context, options.modes.teams));
  return adapters;
}
