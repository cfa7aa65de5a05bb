import { parse as parseQuery } from "node:querystring";
import type { App, Receiver } from "@slack/bolt";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../../services/ports.js";
import {
  type ChatIntake,
  type IntakeAttempt,
  type RateLimit,
  type StoredIntake,
  tooFast,
} from "../core/chat-intake.js";
import { errorText } from "./slack-errors.js";
import { type IntakeOf, intakeOf, REQUEST_FORM_CALLBACK, restoredBody, userOf } from "./slack-intake.js";
import { tellViaResponseUrl } from "./slack-intake-replies.js";
import { refusalMessage, verifySlackSignature } from "./slack-signature.js";

/**
 * A Bolt receiver fed by Sesame's own Fastify server: `POST /slack/events` takes slash commands,
 * interactivity and events on one URL. The raw body is verified (signature and timestamp window)
 * before Bolt sees anything; Bolt's listeners answer through `ack()`, which sends the HTTP reply.
 *
 * With an intake (always, in Sesame), commands, clicks and modal submissions are stored before
 * the ack and run later from the stored row (`processStored`); a replay of a stored key is
 * acknowledged and changes nothing. The request form is checked inline (its ack carries the field
 * errors), and its key is kept only once the form was accepted, so a corrected resubmit works.
 */

const ACK_WARNING_MS = 3_000;
/** The input block a refusal is shown on, per modal (see slack-modals.ts). */
const VIEW_ERROR_BLOCK: Record<string, string> = {
  sesame_request_form: "resource",
  sesame_deny_reason: "reason",
  sesame_extend: "duration",
};

type ParsedBody = Record<string, unknown>;

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseBody(raw: string, contentType: string | undefined): ParsedBody | undefined {
  try {
    if (contentType?.startsWith("application/x-www-form-urlencoded")) {
      const form = parseQuery(raw);
      if (typeof form.payload === "string") return JSON.parse(form.payload) as ParsedBody;
      return form as ParsedBody;
    }
    const json: unknown = JSON.parse(raw);
    return json !== null && typeof json === "object" && !Array.isArray(json) ? (json as ParsedBody) : undefined;
  } catch {
    return undefined;
  }
}

export class FastifySlackReceiver implements Receiver {
  private app: App | undefined;

  constructor(
    private readonly options: {
      signingSecret: string;
      logger: Logger;
      now?: () => Date;
      intake?: ChatIntake;
      rateLimit?: RateLimit;
    },
  ) {}

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  /** Adds `POST /slack/events` to an encapsulated Fastify scope, whose body parsers then keep the raw text. */
  register(scope: FastifyInstance): void {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string", bodyLimit: 1_048_576 }, (_req, body, done) =>
      done(null, body),
    );
    scope.post("/slack/events", async (req, reply) => this.handle(req, reply));
  }

  private async handle(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const rawBody = typeof req.body === "string" ? req.body : "";
    const verdict = verifySlackSignature(
      {
        signingSecret: this.options.signingSecret,
        timestamp: header(req, "x-slack-request-timestamp"),
        signature: header(req, "x-slack-signature"),
        rawBody,
      },
      this.options.now,
    );
    if (!verdict.ok) {
      this.options.logger.warn({ reason: verdict.reason }, "refused a Slack request that failed verification");
      return reply.status(401).send({ error: refusalMessage(verdict) });
    }
    const body = parseBody(rawBody, header(req, "content-type"));
    if (!body) return reply.status(400).send({ error: "The request body is not a Slack payload." });
    if (body.ssl_check === "1") return reply.status(200).send();
    if (body.type === "url_verification") return reply.status(200).send({ challenge: String(body.challenge ?? "") });
    const intake = this.options.intake;
    const entry = intake ? intakeOf(body) : undefined;
    if (intake && entry) return this.takeIn(intake, entry, body, req, reply);
    return this.dispatch(body, req, reply);
  }

  /** Stores before acknowledging; the stored work runs in the intake queue. */
  private async takeIn(
    intake: ChatIntake,
    entry: IntakeOf,
    body: ParsedBody,
    req: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    try {
      const limited = await this.overLimit(entry);
      if (limited) return this.refuseTooFast(entry, limited, reply);
      if (entry.callbackId === REQUEST_FORM_CALLBACK) {
        const claimed = await intake.claim(entry.entry);
        if (!claimed.fresh) return reply.status(200).send();
        let accepted = false;
        const answered = await this.dispatch(body, req, reply, (response) => {
          accepted = !(response && typeof response === "object" && "response_action" in response);
        });
        await (accepted ? intake.finish(claimed.id) : intake.release(claimed.id));
        return answered;
      }
      if (entry.opensModal) {
        // views.open needs the trigger id within 3 s of the click: no waiting behind a queue's backlog.
        const claimed = await intake.claim(entry.entry);
        if (claimed.fresh) {
          const stored = { id: claimed.id, ...entry.entry };
          void intake
            .runHere(claimed.id, (attempt) =>
              this.processStored(stored, attempt, (text) => tellViaResponseUrl(stored, text)),
            )
            .catch((error: unknown) =>
              this.options.logger.error({ error: errorText(error) }, "a Slack action that opens a modal failed"),
            );
        }
        return reply.status(200).send();
      }
      await intake.accept(entry.entry);
      return reply.status(200).send();
    } catch (error) {
      this.options.logger.error({ error: errorText(error) }, "could not store a Slack action; refused it");
      return reply.status(503).send({ error: "Sesame could not store this action; try again in a moment." });
    }
  }

  private async overLimit(entry: IntakeOf): Promise<string | undefined> {
    const limit = this.options.rateLimit;
    const user = userOf({ id: "", ...entry.entry });
    if (!limit || !user) return undefined;
    const verdict = await limit.hit(`slack:${user}`);
    return verdict.ok ? undefined : tooFast(limit, verdict);
  }

  /** SESAME_RATE_LIMIT reached: nothing is stored; the person reads why where they acted. */
  private refuseTooFast(entry: IntakeOf, text: string, reply: FastifyReply): FastifyReply {
    this.options.logger.warn({ kind: entry.entry.kind }, "a Slack user went over SESAME_RATE_LIMIT; refused");
    if (entry.entry.kind === "command") return reply.status(200).send({ response_type: "ephemeral", text });
    if (entry.entry.kind === "view") {
      const block = VIEW_ERROR_BLOCK[entry.callbackId ?? ""] ?? "resource";
      return reply.status(200).send({ response_action: "errors", errors: { [block]: text } });
    }
    void tellViaResponseUrl({ id: "", ...entry.entry }, text).catch((error: unknown) =>
      this.options.logger.warn({ error: errorText(error) }, "could not tell a Slack user they went too fast"),
    );
    return reply.status(200).send();
  }

  /** Runs a stored action through Bolt's listeners, as if it had just arrived (its ack already went out). */
  async processStored(stored: StoredIntake, attempt: IntakeAttempt, tell: (text: string) => Promise<void>) {
    const app = this.app;
    if (!app) throw new Error("Sesame's Slack app is not started in this process");
    await app.processEvent({
      body: restoredBody(stored),
      // What a listener would have put in the ack (e.g. "could not read this command") is sent as a reply.
      ack: async (response?: unknown) => {
        const text = (response as { text?: unknown } | undefined)?.text;
        if (typeof text === "string" && text) await tell(text);
      },
      customProperties: { sesameRetryable: !attempt.final },
    });
  }

  private async dispatch(
    body: ParsedBody,
    req: FastifyRequest,
    reply: FastifyReply,
    onAck?: (response: unknown) => void,
  ): Promise<FastifyReply> {
    const app = this.app;
    if (!app) return reply.status(503).send({ error: "Sesame's Slack app is still starting; retry in a moment." });
    let acknowledged = false;
    let answer: (response: unknown) => void = () => undefined;
    const acked = new Promise<unknown>((resolve) => (answer = resolve));
    const slow = setTimeout(() => {
      if (!acknowledged)
        this.options.logger.error({ type: String(body.type) }, "a Slack request was not acknowledged within 3 seconds");
    }, ACK_WARNING_MS);
    const retryNum = header(req, "x-slack-retry-num");
    const retryReason = header(req, "x-slack-retry-reason");
    const processed = app
      .processEvent({
        body,
        ...(retryNum ? { retryNum: Number(retryNum) } : {}),
        ...(retryReason ? { retryReason } : {}),
        ack: async (response?: unknown) => {
          if (acknowledged) return;
          acknowledged = true;
          answer(response);
        },
      })
      .catch((error: unknown) => this.options.logger.error({ error: errorText(error) }, "Slack listener failed"));
    // Nobody acknowledged (no listener for this payload): answer anyway so Slack does not retry.
    const response = await Promise.race([acked, processed.then(() => undefined)]);
    clearTimeout(slow);
    acknowledged = true;
    onAck?.(response);
    if (response === undefined || response === "") return reply.status(200).send();
    if (typeof response === "string") return reply.status(200).type("text/plain").send(response);
    return reply.status(200).send(response);
  }
}
