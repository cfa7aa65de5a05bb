import type { Context } from "@slack/bolt";
import { installationKey } from "../../storage/slack-installation-repository.js";
import type { ChatContext } from "../core/chat-context.js";

/** What every Slack listener needs: the core, and how to name the workspace a payload came from. */
export interface SlackListenerDeps {
  context: ChatContext;
  /** The installation key of the payload's workspace in OAuth mode; undefined with one workspace. */
  workspaceOf(bolt: Context): string | undefined;
}

export function listenerDeps(context: ChatContext, multi: boolean): SlackListenerDeps {
  return {
    context,
    workspaceOf(bolt) {
      if (!multi || (!bolt.teamId && !bolt.enterpriseId)) return undefined;
      return installationKey({
        isEnterpriseInstall: bolt.isEnterpriseInstall,
        enterpriseId: bolt.enterpriseId,
        teamId: bolt.teamId,
      });
    },
  };
}
