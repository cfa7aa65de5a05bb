import { randomUUID } from "node:crypto";
import { AppError } from "../../domain/errors.js";
import { configInvalid, describeIssues } from "../config-errors.js";
import type {
  CheckOptions,
  CheckResult,
  Connector,
  ConnectorDefinition,
  GrantContext,
  GrantReceipt,
  RevokeContext,
} from "../connector.js";
import { redactSecrets } from "../redact.js";
import { displayUrl, isLoopbackHost, userinfoSecrets, WebhookClient } from "./webhook-client.js";
import {
  GrantIdSchema,
  PrincipalSchema,
  type WebhookConfig,
  type WebhookTarget,
  WebhookTargetSchema,
} from "./webhook-config.js";
import { describeOutcome, describeUnconfirmed, type Where, webhookError, webhookProblem } from "./webhook-errors.js";
import { grantReceipt, isRevokeStatus, isSuccess, revokeUnconfirmed, statusAnswer } from "./webhook-response.js";
import { MAX_BODY_BYTES } from "./webhook-retry.js";
import { answerSignatureProblem } from "./webhook-signature.js";
import { webhookConnectorSpec } from "./webhook-spec.js";

/** Grants by calling the user's own HTTP receiver with signed events. See README.md. */

/** What confirms a revoke or answers a status request (README.md, "Revoke and verification"). */
const REVOKE_EXPECTED = `2xx, 404 or 410 with {"grantId": "<id>", "revoked": true}`;
const STATUS_EXPECTED = `2xx with {"grantId": "<id>", "active": true|false}`;

export class WebhookConnector implements Connector {
  readonly type = "webhook";
  /** Only with a statusUrl: without one, the receiver's answer to the revoke is all we can know. */
  readonly verifyRevoked?: (context: RevokeContext) => Promise<boolean>;
  readonly #name: string;
  readonly #config: WebhookConfig;
  readonly #secrets: readonly string[];
  readonly #client: WebhookClient;
  readonly #where: Where;
  /** The key the receiver's revoke and status answers must be signed with; undefined: requireSignedResponses is off. */
  readonly #answerSecret: string | undefined;

  /** `sleep` waits between quick retries; tests pass one that records instead of waiting. */
  constructor(
    config: WebhookConfig,
    options: { name: string; secrets: readonly string[]; sleep?: (ms: number) => Promise<void> },
  ) {
    this.#name = options.name;
    this.#config = config;
    this.#secrets = [
      ...options.secrets,
      config.secret,
      ...userinfoSecrets(config.url),
      ...(config.statusUrl === undefined ? [] : userinfoSecrets(config.statusUrl)),
    ];
    this.#client = new WebhookClient(config, options.sleep);
    this.#where = { display: displayUrl(new URL(config.url)), timeoutSeconds: config.timeoutSeconds };
    this.#answerSecret = config.requireSignedResponses ? config.secret : undefined;
    const { statusUrl } = config;
    if (statusUrl !== undefined) this.verifyRevoked = (context) => this.#verifyRevoked(statusUrl, context);
  }

  async check(options: CheckOptions = {}): Promise<CheckResult> {
    const problems = (options.targets ?? []).flatMap((target, index) => {
      const result = WebhookTargetSchema.safeParse(target);
      return result.success ? [] : describeIssues(result.error, `target ${index + 1}`);
    });
    problems.push(...this.#plainHttpProblems());
    // No quick retries: check() reports the receiver as it is right now.
    const ping = await this.#client.post("ping", {}, `ping:${randomUUID()}`, 0);
    if ("error" in ping || !isSuccess(ping.response.status))
      problems.push(webhookProblem("ping failed", describeOutcome(ping, this.#where), this.#secrets));
    else if (this.#answerSecret !== undefined) {
      // Grants would work with an unsigned receiver, and every revoke would then fail: say so now.
      const problem = answerSignatureProblem(this.#answerSecret, ping.response.headers, ping.response.body);
      if (problem !== undefined) {
        const unconfirmed = describeUnconfirmed(ping, this.#where, { clause: problem, signature: true }, "2xx, signed");
        problems.push(webhookProblem("ping answer refused (revokes would fail)", unconfirmed, this.#secrets));
      }
    }
    if (this.#config.statusUrl !== undefined) {
      const where = { ...this.#where, display: displayUrl(new URL(this.#config.statusUrl)) };
      const grantId = `sesame-check-${randomUUID()}`;
      const status = await this.#client.status(this.#config.statusUrl, grantId, 0);
      const expected = `2xx with {"grantId": "<id>", "active": false} for an unknown grant`;
      if ("error" in status || !isSuccess(status.response.status))
        problems.push(webhookProblem("status check failed", describeOutcome(status, where, expected), this.#secrets));
      else {
        const answer = statusAnswer(status.response, grantId, this.#answerSecret);
        const unconfirmed =
          "unconfirmed" in answer
            ? answer.unconfirmed
            : answer.active
              ? { clause: `with "active": true for a grant id it cannot know`, signature: false }
              : undefined;
        if (unconfirmed !== undefined)
          problems.push(
            webhookProblem(
              "status check failed",
              describeUnconfirmed(status, where, unconfirmed, expected),
              this.#secrets,
            ),
          );
      }
    }
    return { ok: problems.length === 0, problems };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const fields = this.#fields(context);
    const outcome = await this.#client.post("grant", fields, `${context.grantId}:grant`, this.#config.retries);
    if ("error" in outcome || !isSuccess(outcome.response.status))
      throw this.#error("grant access", describeOutcome(outcome, this.#where));
    if (outcome.response.truncated) {
      // Credentials may sit in the part we did not read: better fail than hand out half an answer.
      const reason = `the receiver's answer is larger than ${MAX_BODY_BYTES / 1024} KB`;
      throw this.#error("grant access", {
        reason,
        hint: "Keep grant answers small (ids and credentials only), then retry.",
      });
    }
    return grantReceipt(outcome.response, this.#secrets);
  }

  async revoke(context: RevokeContext): Promise<void> {
    const fields = { ...this.#fields(context), receipt: context.receipt?.response ?? null };
    const outcome = await this.#client.post("revoke", fields, `${context.grantId}:revoke`, this.#config.retries);
    if ("error" in outcome || !isRevokeStatus(outcome.response.status))
      throw this.#error("revoke access", describeOutcome(outcome, this.#where, REVOKE_EXPECTED));
    // A status code alone proves nothing: a moved receiver, an ingress's default backend or anyone on
    // the path can answer 404. Only the receiver's signed confirmation for this grant counts.
    const unconfirmed = revokeUnconfirmed(outcome.response, context.grantId, this.#answerSecret);
    if (unconfirmed !== undefined)
      throw this.#error("revoke access", describeUnconfirmed(outcome, this.#where, unconfirmed, REVOKE_EXPECTED));
  }

  async close(): Promise<void> {
    this.#client.close();
  }

  async #verifyRevoked(statusUrl: string, context: RevokeContext): Promise<boolean> {
    this.#fields(context);
    const outcome = await this.#client.status(statusUrl, context.grantId, this.#config.retries);
    const where = { ...this.#where, display: displayUrl(new URL(statusUrl)) };
    if ("error" in outcome || !isSuccess(outcome.response.status))
      throw this.#error("verify a revoke", describeOutcome(outcome, where, STATUS_EXPECTED));
    const answer = statusAnswer(outcome.response, context.grantId, this.#answerSecret);
    if ("unconfirmed" in answer)
      throw this.#error("verify a revoke", describeUnconfirmed(outcome, where, answer.unconfirmed, STATUS_EXPECTED));
    return !answer.active;
  }

  /** check(): plain http:// to another machine sends grants, receipts and credentials in clear text. */
  #plainHttpProblems(): string[] {
    const urls: [field: string, raw: string | undefined, what: string][] = [
      ["url", this.#config.url, "credentials and grants travel unencrypted"],
      ["statusUrl", this.#config.statusUrl, "grant status travels unencrypted"],
    ];
    return urls.flatMap(([field, raw, what]) => {
      if (raw === undefined) return [];
      const url = new URL(raw);
      if (url.protocol !== "http:" || isLoopbackHost(url.hostname)) return [];
      return [
        redactSecrets(
          `${field} ${displayUrl(url)} is plain http:// to another machine: ${what}; use https`,
          this.#secrets,
        ),
      ];
    });
  }

  /** The event fields every grant and revoke carries, after validating what goes into them. */
  #fields(context: GrantContext): { grantId: string; principal: string; target: WebhookTarget; expiresAt: string } {
    const target = WebhookTargetSchema.safeParse(context.target);
    if (!target.success)
      throw configInvalid(describeIssues(target.error, `connector "${this.#name}" target`), { connector: this.#name });
    const principal = PrincipalSchema.safeParse(context.principal);
    if (!principal.success) {
      const problem = principal.error.issues.map((issue) => issue.message).join("; ");
      throw new AppError(
        "connector_failed",
        `Connector "${this.#name}" cannot use principal ${JSON.stringify(context.principal)}: it ${problem}. Fix the identity mapping.`,
      );
    }
    if (!GrantIdSchema.safeParse(context.grantId).success)
      throw new AppError("internal", `Connector "${this.#name}" got an unusable grant id.`);
    return {
      grantId: context.grantId,
      principal: context.principal,
      target: target.data,
      expiresAt: context.expiresAt.toISOString(),
    };
  }

  #error(action: string, problem: { reason: string; hint: string }): AppError {
    return webhookError(this.#name, action, problem, this.#secrets);
  }
}

export const webhookConnectorDefinition: ConnectorDefinition<WebhookConfig, WebhookTarget> = {
  ...webhookConnectorSpec,
  create: (config, options) => new WebhookConnector(config, options),
};
