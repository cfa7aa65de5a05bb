import { WebClient, type WebClientOptions } from "@slack/web-api";
import type { SlackInstallationStore } from "./slack-installations.js";

/**
 * Which Slack workspace to talk to, and with which bot token. One workspace (SLACK_BOT_TOKEN or
 * Socket Mode) has one client; OAuth mode has one per installation, keyed "T<team>" / "E<org>".
 */
export interface SlackWorkspaces {
  readonly multi: boolean;
  /** A client for a workspace key (ignored with one workspace); null when it is not installed. */
  client(workspace: string | undefined): Promise<WebClient | null>;
  /** Workspaces to look for someone in, the likely one first (`undefined` stands for the only one). */
  candidates(likely: string | undefined): Promise<(string | undefined)[]>;
}

export function singleWorkspace(botToken: string, clientOptions: WebClientOptions): SlackWorkspaces {
  const client = new WebClient(botToken, clientOptions);
  return {
    multi: false,
    client: async () => client,
    candidates: async () => [undefined],
  };
}

export function installedWorkspaces(store: SlackInstallationStore, clientOptions: WebClientOptions): SlackWorkspaces {
  const clients = new Map<string, WebClient>();
  return {
    multi: true,
    async client(workspace) {
      if (!workspace) return null;
      const token = (await store.byKey(workspace))?.bot?.token;
      if (!token) return null;
      let client = clients.get(token);
      if (!client) {
        client = new WebClient(token, clientOptions);
        clients.set(token, client);
      }
      return client;
    },
    async candidates(likely) {
      const keys = await store.keys();
      return likely && keys.includes(likely) ? [likely, ...keys.filter((key) => key !== likely)] : keys;
    },
  };
}
