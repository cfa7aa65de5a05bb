import type { FastifyInstance } from "fastify";
import type { TeamsMode } from "../../config/chat-env.js";
import type { Logger } from "../../services/ports.js";
import type { TeamsTransport, TeamsTurn } from "./bot-framework-transport.js";
import { precheckBotToken } from "./bot-token-precheck.js";
import { ActivitySchema, tenantOf } from "./teams-activity.js";

/**
 * `POST /api/messages`. In authenticated mode a request must carry a Bot Framework bearer token
 * (checked by the SDK) and come from Sesame's own tenant; cheap refusals happen before the SDK so
 * a stranger's request costs nothing and never reaches the bot. Development mode (no credentials)
 * exists for the local playground and tests only; chat-env refuses it in production.
 */

const statusOf = (error: unknown): number | undefined =>
  typeof error === "object" && error !== null && "statusCode" in error && typeof error.statusCode === "number"
    ? error.statusCode
    : undefined;

export function messagesRoute(
  app: FastifyInstance,
  options: {
    mode: Exclude<TeamsMode, { kind: "off" }>;
    transport: TeamsTransport;
    logger: Logger;
    handle: (turn: TeamsTurn) => Promise<void>;
  },
): void {
  const { mode, transport, logger } = options;
  app.post("/api/messages", { bodyLimit: 256 * 1024 }, async (req, reply) => {
    const authorization = req.headers.authorization ?? "";
    if (mode.kind === "authenticated") {
      const precheck = precheckBotToken(authorization, mode);
      if (!precheck.ok) {
        logger.warn({ reason: precheck.reason }, "refused a Teams activity: its token cannot be valid");
        return reply.status(401).send({ error: "A valid Bot Framework bearer token is required." });
      }
    }
    const activity = ActivitySchema.safeParse(req.body);
    if (!activity.success) return reply.status(400).send({ error: "The body is not a Bot Framework activity." });
    if (mode.kind === "authenticated" && tenantOf(activity.data) !== mode.tenantId) {
      logger.warn({ tenant: tenantOf(activity.data) ?? null }, "refused a Teams activity from another tenant");
      return reply.status(403).send({ error: "This Sesame serves one Microsoft Entra tenant only." });
    }
    let verified = false;
    try {
      const result = await transport.process(authorization, req.body as Record<string, unknown>, (turn) => {
        verified = true;
        return options.handle(turn);
      });
      return result ? reply.status(result.status).send(result.body ?? null) : reply.status(200).send();
    } catch (error) {
      const status = statusOf(error);
      const err = error instanceof Error ? error.message : String(error);
      if (status === 401 || status === 403) {
        logger.warn({ status }, "refused a Teams activity: authentication failed");
        return reply.status(401).send({ error: "The Bot Framework token is not valid." });
      }
      if (!verified) {
        // Fail closed: the token could not be checked (e.g. the Bot Framework signing keys were unreachable).
        logger.error({ err }, "could not verify a Teams activity's token; refused it");
        return reply.status(503).send({ error: "Sesame could not verify the token right now; retry later." });
      }
      logger.error({ err }, "Teams activity processing failed");
      return reply.status(500).send({ error: "Sesame could not process this activity." });
    }
  });
}
