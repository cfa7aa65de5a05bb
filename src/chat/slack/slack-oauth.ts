import { InstallProvider } from "@slack/oauth";
import type { WebClientOptions } from "@slack/web-api";
import type { FastifyInstance } from "fastify";
import type { SlackMode } from "../../config/chat-env.js";
import type { Logger } from "../../services/ports.js";
import type { SlackInstallationStore } from "./slack-installations.js";
import { boltLogger } from "./slack-logger.js";

/**
 * Multi-workspace mode: `GET /slack/install` sends an admin to Slack's consent page,
 * `GET /slack/oauth_redirect` receives the code, exchanges it (`oauth.v2.access`) and stores the
 * installation (sealed) in the database. The scopes are the manifest's bot scopes.
 */

export const BOT_SCOPES = ["commands", "chat:write", "users:read", "users:read.email"] as const;

export type OAuthMode = Extract<SlackMode, { kind: "oauth" }>;

export function createInstaller(
  mode: OAuthMode,
  store: SlackInstallationStore,
  clientOptions: WebClientOptions,
  logger: Logger,
): InstallProvider {
  const { logger: _ignored, ...webOptions } = clientOptions;
  return new InstallProvider({
    clientId: mode.clientId,
    clientSecret: mode.clientSecret,
    stateSecret: mode.stateSecret,
    installationStore: store,
    directInstall: true,
    logger: boltLogger(logger),
    clientOptions: webOptions,
    installUrlOptions: { scopes: [...BOT_SCOPES], redirectUri: redirectUri(mode) },
  });
}

const redirectUri = (mode: OAuthMode): string => `${mode.publicUrl.replace(/\/+$/, "")}/slack/oauth_redirect`;

/** The installer already holds the install options; the callback recovers them from the verified state. */
export function registerOAuthRoutes(scope: FastifyInstance, installer: InstallProvider): void {
  scope.get("/slack/install", async (req, reply) => {
    reply.hijack();
    await installer.handleInstallPath(req.raw, reply.raw);
  });
  scope.get("/slack/oauth_redirect", async (req, reply) => {
    reply.hijack();
    await installer.handleCallback(req.raw, reply.raw);
  });
}
