import { App } from "@slack/bolt";
import type { WebClientOptions } from "@slack/web-api";
import type { FastifyInstance } from "fastify";
import type { SlackMode } from "../../config/chat-env.js";
import type { Env } from "../../config/env.js";
import type { ChatAdapter } from "../core/chat-adapter.js";
import type { ChatContext } from "../core/chat-context.js";
import { isRetryLater } from "../core/chat-intake.js";
import type { SharedPace } from "./channel-pacer.js";
import { registerActions } from "./slack-action-listeners.js";
import { registerCommand } from "./slack-command-listener.js";
import { errorText } from "./slack-errors.js";
import { registerHome } from "./slack-home.js";
import type { SlackInstallationStore } from "./slack-installations.js";
import { tellFailed, tellViaResponseUrl } from "./slack-intake-replies.js";
import { listenerDeps } from "./slack-listener-deps.js";
import { boltLogger } from "./slack-logger.js";
import { createInstaller, registerOAuthRoutes } from "./slack-oauth.js";
import { createSlackOutbound } from "./slack-outbound.js";
import { FastifySlackReceiver } from "./slack-receiver.js";
import { registerViews } from "./slack-view-listeners.js";
import { installedWorkspaces, singleWorkspace } from "./slack-workspaces.js";

/**
 * The Slack adapter: Bolt for inbound traffic (on Sesame's own server at /slack/events, or over
 * Socket Mode when SLACK_APP_TOKEN is set), a paced Web API client for outbound cards.
 */

export interface SlackAdapterOptions {
  env: Env;
  mode: Exclude<SlackMode, { kind: "off" }>;
  context: ChatContext;
  /** OAuth installations (used in oauth mode only). */
  installations: SlackInstallationStore;
  /** Minimum time between two messages to one channel (Slack allows about one per second). */
  minIntervalMs?: number;
  /** The Redis every Sesame process shares, so the per-channel pace holds for all of them together. */
  sharedPace?: SharedPace;
}

export async function createSlackAdapter(options: SlackAdapterOptions): Promise<ChatAdapter> {
  const { mode, context } = options;
  const logger = boltLogger(context.logger);
  const clientOptions: WebClientOptions = {
    slackApiUrl: options.env.SLACK_API_URL,
    logger,
    // Rate limits wait for Retry-After inside the client; other failures surface quickly so the chat queue retries the job.
    retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5_000 },
  };
  const { installations } = options;
  const workspaces =
    mode.kind === "oauth"
      ? installedWorkspaces(installations, clientOptions)
      : singleWorkspace(mode.botToken, clientOptions);
  const outbound = createSlackOutbound({
    workspaces,
    store: context.store,
    logger: context.logger,
    minIntervalMs: options.minIntervalMs ?? 1_000,
    ...(options.sharedPace ? { shared: options.sharedPace } : {}),
  });
  const deps = listenerDeps(context, mode.kind === "oauth");
  let app: App | undefined;

  const withListeners = (built: App): App => {
    registerCommand(built, deps);
    registerActions(built, deps);
    registerHome(built, deps);
    registerViews(built, deps);
    built.error(async (error) => {
      // A stored action asks for another attempt: let it reach the intake queue.
      if (isRetryLater(error)) throw error;
      context.logger.error({ error: error.message, code: error.code }, "Slack listener error");
    });
    return built;
  };

  // In HTTP modes the app is built on first need, in any role: the web process for its route, a
  // worker process for stored actions (the intake queue), run through the same listeners. The CLI,
  // which needs neither, never builds it (Bolt calls auth.test as soon as it exists).
  let http: { receiver: FastifySlackReceiver; installer?: ReturnType<typeof createInstaller> } | undefined;
  const httpApp = (httpMode: Exclude<typeof mode, { kind: "socket" }>) => {
    if (http) return http;
    // The timestamp window is judged by Sesame's own clock, so tests can hold it still at the ±5 minute edge.
    const receiver = new FastifySlackReceiver({
      signingSecret: httpMode.signingSecret,
      logger: context.logger,
      now: context.deps.now,
      ...(context.intake ? { intake: context.intake } : {}),
      ...(context.rateLimit ? { rateLimit: context.rateLimit } : {}),
    });
    if (httpMode.kind === "oauth") {
      const installer = createInstaller(httpMode, installations, clientOptions, context.logger);
      app = withListeners(
        new App({ receiver, authorize: (source) => installer.authorize(source), clientOptions, logger }),
      );
      http = { receiver, installer };
    } else {
      app = withListeners(new App({ receiver, token: httpMode.botToken, clientOptions, logger }));
      http = { receiver };
    }
    return http;
  };
  if (mode.kind !== "socket")
    context.intake?.register("slack", {
      process: (stored, attempt) =>
        httpApp(mode).receiver.processStored(stored, attempt, (text) => tellViaResponseUrl(stored, text)),
      tellFailed: (stored) => {
        httpApp(mode);
        return tellFailed(stored, app?.client, context.logger);
      },
    });

  return {
    platform: "slack",
    async registerRoutes(scope: FastifyInstance) {
      if (mode.kind === "socket") return;
      const { receiver, installer } = httpApp(mode);
      receiver.register(scope);
      if (installer) registerOAuthRoutes(scope, installer);
    },
    async start() {
      if (mode.kind !== "socket") return;
      app = withListeners(
        new App({ token: mode.botToken, appToken: mode.appToken, socketMode: true, clientOptions, logger }),
      );
      // Slack being unreachable at boot must not stop Sesame; the Socket Mode client reconnects by itself.
      void app
        .start()
        .catch((error: unknown) =>
          context.logger.error({ error: errorText(error) }, "Slack Socket Mode could not connect"),
        );
    },
    async stop() {
      if (mode.kind === "socket") await app?.stop().catch(() => undefined);
      await outbound.stop();
    },
    post: (to, card) => outbound.post(to, card),
    update: (address, card) => outbound.update(address, card),
    remind: (to, card, text) => outbound.remind(to, card, text),
  };
}
