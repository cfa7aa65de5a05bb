import type { ChatModes } from "../config/chat-env.js";
import type { Env } from "../config/env.js";
import type { ChatAdapter, ChatPlatform } from "./core/chat-adapter.js";
import type { ChatContext } from "./core/chat-context.js";
import type { SharedPace } from "./slack/channel-pacer.js";
import type { SlackInstallationStore } from "./slack/slack-installations.js";

/**
 * Builds an adapter for every chat platform the environment configures. Each SDK (Bolt,
 * botbuilder) is imported only when its platform is on: unused, they cost tens of megabytes.
 */

export interface ChatAdapterOptions {
  env: Env;
  modes: ChatModes;
  context: ChatContext;
  /** Slack OAuth installations, built by the composition root. */
  slackInstallations: SlackInstallationStore;
  /** Redis shared by all processes: Slack's per-channel pace is kept across them. */
  sharedPace?: SharedPace;
}

export function enabledPlatforms(modes: ChatModes): ChatPlatform[] {
  return (["slack", "teams"] as const).filter((platform) => modes[platform].kind !== "off");
}

export async function createChatAdapters(options: ChatAdapterOptions): Promise<ChatAdapter[]> {
  const adapters: ChatAdapter[] = [];
  const { slack, teams } = options.modes;
  if (slack.kind !== "off") {
    const { createSlackAdapter } = await import("./slack/slack-adapter.js");
    adapters.push(
      await createSlackAdapter({
        env: options.env,
        mode: slack,
        context: options.context,
        installations: options.slackInstallations,
        ...(options.sharedPace ? { sharedPace: options.sharedPace } : {}),
      }),
    );
  }
  if (teams.kind !== "off") {
    const { createTeamsAdapter } = await import("./teams/teams-adapter.js");
    adapters.push(createTeamsAdapter(options.context, teams));
  }
  return adapters;
}
