import type { FastifyInstance } from "fastify";
import { signedMessageProblem } from "../../connectors/webhook/webhook-signature.js";
import { InboundEventBodySchema } from "../../domain/access-trigger.js";
import { AppError } from "../../domain/errors.js";
import { PagerDutyWebhookSchema } from "../../domain/pagerduty-webhook.js";
import type { ServiceDeps } from "../../services/deps.js";
import { type InboundEventStore, PAGERDUTY_SOURCE } from "../../services/inbound-events.js";
import { pagerDutySignatureValid } from "./pagerduty-signature.js";

/**
 * `POST /events/:source`: a signed event from another system (Opsgenie, monitoring, a script).
 * Checked in this order, and nothing is stored until all pass: the source has a secret, the
 * HMAC signature over `<X-Sesame-Timestamp>.<raw body>` matches and the timestamp is within 5
 * minutes, an `Idempotency-Key` is given, the body has the event shape. Then the event is stored
 * (once per source and key) and answered at once; the work runs in a job.
 */

const SOURCE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
const BODY_LIMIT = 64 * 1024;

export interface EventRoutesOptions {
  deps: ServiceDeps;
  events: InboundEventStore;
  dispatch(eventId: string): Promise<"queued" | "processed">;
  /** The source's HMAC secret (SESAME_EVENT_SECRET_<SOURCE>), or undefined when it has none. */
  secretOf(source: string): string | undefined;
  /** PAGERDUTY_WEBHOOK_SECRET: without it, POST /events/pagerduty refuses everything. */
  pagerDutySecret?: string | undefined;
}

export function eventRoutes(options: EventRoutesOptions): (app: FastifyInstance) => Promise<void> {
  return async (app) => {
    // The signature covers the raw bytes: keep them as they came, and parse only after the check.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
    // PagerDuty Webhooks v3: verified before anything else, stored once per event id.
    app.post("/events/pagerduty", { schema: { hide: true }, bodyLimit: BODY_LIMIT }, async (req, reply) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const secret = options.pagerDutySecret;
      if (!secret || !pagerDutySignatureValid(secret, req.headers["x-pagerduty-signature"], raw)) {
        req.log.warn({ source: PAGERDUTY_SOURCE, configured: secret !== undefined }, "PagerDuty webhook refused");
        throw new AppError("unauthenticated", "The webhook was refused: no valid X-PagerDuty-Signature.");
      }
      const parsed = PagerDutyWebhookSchema.safeParse(parseJson(raw));
      if (!parsed.success) throw new AppError("invalid_input", "The body is not a PagerDuty v3 webhook event.");
      const stored = await options.events.record(PAGERDUTY_SOURCE, parsed.data.event.id, parsed.data);
      if (stored.duplicate) return reply.status(200).send({ event: stored.id, duplicate: true });
      const processing = await options.dispatch(stored.id);
      return reply.status(202).send({ event: stored.id, duplicate: false, processing });
    });
    app.post<{ Params: { source: string } }>(
      "/events/:source",
      { schema: { hide: true }, bodyLimit: BODY_LIMIT },
      async (req, reply) => {
        const { source } = req.params;
        const secret = SOURCE.test(source) ? options.secretOf(source) : undefined;
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const problem = secret
          ? signedMessageProblem(secret, req.raw.headers, raw, options.deps.now().getTime())
          : "for a source Sesame has no secret for";
        if (problem) {
          req.log.warn({ source, problem }, "inbound event refused");
          throw new AppError("unauthenticated", `The event was refused: it came ${problem}.`);
        }
        const key = req.headers["idempotency-key"];
        if (typeof key !== "string" || !IDEMPOTENCY_KEY.test(key))
          throw new AppError("invalid_input", "Send an Idempotency-Key header (1-200 printable characters).");
        const parsed = InboundEventBodySchema.safeParse(parseJson(raw));
        if (!parsed.success) {
          const fields = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
          throw new AppError("invalid_input", fields.join("; "));
        }
        const stored = await options.events.record(source, key, parsed.data);
        if (stored.duplicate) return reply.status(200).send({ event: stored.id, duplicate: true });
        const processing = await options.dispatch(stored.id);
        return reply.status(202).send({ event: stored.id, duplicate: false, processing });
      },
    );
  };
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw new AppError("invalid_input", "The body is not valid JSON.");
  }
}
