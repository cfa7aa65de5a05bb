import { type Env, EnvError } from "./env.js";

/** Which chat platforms this process serves and how, derived from the environment (one line per problem). */

export type SlackMode =
  | { kind: "off" }
  | { kind: "single"; botToken: string; signingSecret: string }
  | { kind: "socket"; botToken: string; appToken: string; signingSecret: string | undefined }
  | {
      kind: "oauth";
      clientId: string;
      clientSecret: string;
      stateSecret: string;
      signingSecret: string;
      publicUrl: string;
      allowedWorkspaces: string[];
    };

export type TeamsMode =
  | { kind: "off" }
  | { kind: "authenticated"; appId: string; appPassword: string; tenantId: string }
  | { kind: "development" };

export interface ChatModes {
  slack: SlackMode;
  teams: TeamsMode;
}

function slackMode(env: Env, problems: string[]): SlackMode {
  const {
    SLACK_SIGNING_SECRET: signing,
    SLACK_BOT_TOKEN: bot,
    SLACK_APP_TOKEN: app,
    SLACK_CLIENT_ID: clientId,
    SLACK_CLIENT_SECRET: clientSecret,
    SLACK_STATE_SECRET: state,
  } = env;
  if (!signing && !bot && !app && !clientId && !clientSecret && !state) return { kind: "off" };
  const oauth = clientId || clientSecret || state;
  if (bot && oauth) {
    problems.push(
      "SLACK_BOT_TOKEN: set either a bot token (one workspace) or SLACK_CLIENT_ID/SECRET (OAuth, many workspaces), not both",
    );
    return { kind: "off" };
  }
  if (oauth) {
    const missing = (
      [
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "SLACK_STATE_SECRET",
        "SLACK_SIGNING_SECRET",
        "SESAME_PUBLIC_URL",
        "SLACK_ALLOWED_WORKSPACES",
      ] as const
    ).filter((name) => !env[name]);
    for (const name of missing)
      problems.push(
        `${name}: is required for Slack OAuth (multi-workspace) mode${name === "SLACK_ALLOWED_WORKSPACES" ? " (the workspace ids that may install Sesame, e.g. T0123ABCD)" : ""}`,
      );
    if (app)
      problems.push(
        "SLACK_APP_TOKEN: Socket Mode needs a single workspace (SLACK_BOT_TOKEN); OAuth installs need the public URL",
      );
    if (missing.length > 0 || app) return { kind: "off" };
    const allowedWorkspaces = env.SLACK_ALLOWED_WORKSPACES!.split(",").map((id) => id.trim());
    return {
      kind: "oauth",
      clientId: clientId!,
      clientSecret: clientSecret!,
      stateSecret: state!,
      signingSecret: signing!,
      publicUrl: env.SESAME_PUBLIC_URL!,
      allowedWorkspaces,
    };
  }
  if (!bot) {
    problems.push("SLACK_BOT_TOKEN: is required when Slack is configured (or use SLACK_CLIENT_ID/SECRET for OAuth)");
    return { kind: "off" };
  }
  if (app) return { kind: "socket", botToken: bot, appToken: app, signingSecret: signing };
  if (!signing) {
    problems.push(
      "SLACK_SIGNING_SECRET: is required to verify requests to /slack/events (or set SLACK_APP_TOKEN for Socket Mode)",
    );
    return { kind: "off" };
  }
  return { kind: "single", botToken: bot, signingSecret: signing };
}

function teamsMode(env: Env, problems: string[]): TeamsMode {
  const { TEAMS_APP_ID: appId, TEAMS_APP_PASSWORD: password, TEAMS_TENANT_ID: tenantId } = env;
  if (env.TEAMS_DEV_NO_AUTH) {
    if (env.NODE_ENV === "production") {
      problems.push("TEAMS_DEV_NO_AUTH: accepts unauthenticated Teams traffic and is refused when NODE_ENV=production");
      return { kind: "off" };
    }
    if (appId || password)
      problems.push("TEAMS_DEV_NO_AUTH: unset TEAMS_APP_ID/TEAMS_APP_PASSWORD or turn development mode off");
    return { kind: "development" };
  }
  if (!appId && !password && !tenantId) return { kind: "off" };
  const missing = (["TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "TEAMS_TENANT_ID"] as const).filter((name) => !env[name]);
  for (const name of missing)
    problems.push(`${name}: is required when Teams is configured (single-tenant bot registration)`);
  if (missing.length > 0) return { kind: "off" };
  return { kind: "authenticated", appId: appId!, appPassword: password!, tenantId: tenantId! };
}

export function chatModes(env: Env): ChatModes {
  const problems: string[] = [];
  const modes = { slack: slackMode(env, problems), teams: teamsMode(env, problems) };
  if (problems.length > 0) throw new EnvError(problems);
  return modes;
}
