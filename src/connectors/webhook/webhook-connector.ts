import { randomUUID } from "node:crypto";
import { AppError } from "../../domain/errors.js";
import { configInvalid, describeIssues } from "../config-errors.js";
import type { CheckOptions, CheckResult, Connector, ConnectorDefinition, GrantContext, GrantReceipt, RevokeContext } from "../connector.js";
import { displayUrl, userinfoSecrets, WebhookClient } from "./webhook-client.js";
import { GrantIdSchema, PrincipalSchema, WebhookConfigSchema, WebhookTargetSchema, type WebhookConfig, type WebhookTarget } from "./webhook-config.js";
import { describeOutcome, webhookError, webhookProblem, type Where } from "./webhook-errors.js";
import { grantReceipt, isSuccess, revokeAccepted, statusActive } from "./webhook-response.js";
import { MAX_BODY_BYTES } from "./webhook-retry.js";

/** Grants by calling the user's own HTTP receiver with signed events. See README.md. */

export class WebhookConnector implements Connector {
  readonly type = "webhook";
  /** Only with a statusUrl: without one, the receiver's answer to the revoke is all we can know. */
  readonly verifyRevoked?: (context: RevokeContext) => Promise<boolean>;
  readonly #name: string;
  readonly #config: WebhookConfig;
  readonly #secrets: readonly string[];
  readonly #client: WebhookClient;
  readonly #where: Where;

  constructor(config: WebhookConfig, options: { name: string; secrets: readonly string[] }) {
    this.#name = options.name;
    this.#config = config;
    this.#secrets = [...options.secrets, config.secret, ...userinfoSecrets(config.url), ...(config.statusUrl === undefined ? [] : userinfoSecrets(config.statusUrl))];
    this.#client = new WebhookClient(config);
    this.#where = { display: displayUrl(new URL(config.url)), timeoutSeconds: config.timeoutSeconds };
    const { statusUrl } = config;
    if (statusUrl !== undefined) this.verifyRevoked = (context) => this.#verifyRevoked(statusUrl, context);
  }

  async check(options: CheckOptions = {}): Promise<CheckResult> {
    const problems = (options.targets ?? []).flatMap((target, index) => {
      const result = WebhookTargetSchema.safeParse(target);
      return result.success ? [] : describeIssues(result.error, `target ${index + 1}`);
    });
    // No quick retries: check() reports the receiver as it is right now.
    const ping = await this.#client.post("ping", {}, `ping:${randomUUID()}`, 0);
    if ("error" in ping || !isSuccess(ping.response.status)) problems.push(webhookProblem("ping failed", describeOutcome(ping, this.#where), this.#secrets));
    if (this.#config.statusUrl !== undefined) {
      const where = { ...this.#where, display: displayUrl(new URL(this.#config.statusUrl)) };
      const status = await this.#client.status(this.#config.statusUrl, `sesame-check-${randomUUID()}`, 0);
      if ("error" in status || statusActive(status.response) === undefined) {
        problems.push(webhookProblem("status check failed", describeOutcome(status, where, `2xx with {"active": false} for an unknown grant`), this.#secrets));
      }
    }
    return { ok: problems.length === 0, problems };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const fields = this.#fields(context);
    const outcome = await this.#client.post("grant", fields, `${context.grantId}:grant`, this.#config.retries);
    if ("error" in outcome || !isSuccess(outcome.response.status)) throw this.#error("grant access", describeOutcome(outcome, this.#where));
    if (outcome.response.truncated) {
      // Credentials may sit in the part we did not read: better fail than hand out half an answer.
      const reason = `the receiver's answer is larger than ${MAX_BODY_BYTES / 1024} KB`;
      throw this.#error("grant access", { reason, hint: "Keep grant answers small (ids and credentials only), then retry." });
    }
    return grantReceipt(outcome.response, this.#secrets);
  }

  async revoke(context: RevokeContext): Promise<void> {
    const fields = { ...this.#fields(context), receipt: context.receipt?.response ?? null };
    const outcome = await this.#client.post("revoke", fields, `${context.grantId}:revoke`, this.#config.retries);
    if ("error" in outcome || !revokeAccepted(outcome.response)) throw this.#error("revoke access", describeOutcome(outcome, this.#where, `2xx without "revoked": false, 404 or 410`));
  }

  async close(): Promise<void> {
    this.#client.close();
  }

  async #verifyRevoked(statusUrl: string, context: RevokeContext): Promise<boolean> {
    this.#fields(context);
    const outcome = await this.#client.status(statusUrl, context.grantId, this.#config.retries);
    const active = "error" in outcome ? undefined : statusActive(outcome.response);
    if (active !== undefined) return !active;
    const where = { ...this.#where, display: displayUrl(new URL(statusUrl)) };
    throw this.#error("verify a revoke", describeOutcome(outcome, where, `2xx with {"active": true|false}`));
  }

  /** The event fields every grant and revoke carries, after validating what goes into them. */
  #fields(context: GrantContext): { grantId: string; principal: string; target: WebhookTarget; expiresAt: string } {
    const target = WebhookTargetSchema.safeParse(context.target);
    if (!target.success) throw configInvalid(describeIssues(target.error, `connector "${this.#name}" target`), { connector: this.#name });
    const principal = PrincipalSchema.safeParse(context.principal);
    if (!principal.success) {
      const problem = principal.error.issues.map((issue) => issue.message).join("; ");
      throw new AppError("connector_failed", `Connector "${this.#name}" cannot use principal ${JSON.stringify(context.principal)}: it ${problem}. Fix the identity mapping.`);
    }
    if (!GrantIdSchema.safeParse(context.grantId).success) throw new AppError("internal", `Connector "${this.#name}" got an unusable grant id.`);
    return { grantId: context.grantId, principal: context.principal, target: target.data, expiresAt: context.expiresAt.toISOString() };
  }

  #error(action: string, problem: { reason: string; hint: string }): AppError {
    return webhookError(this.#name, action, problem, this.#secrets);
  }
}

export const webhookConnectorDefinition: ConnectorDefinition<WebhookConfig, WebhookTarget> = {
  type: "webhook",
  description: "Any system: POSTs signed grant and revoke events to your own HTTP receiver.",
  configSchema: WebhookConfigSchema,
  targetSchema: WebhookTargetSchema,
  secretFields: ["secret"],
  // The receiver sees every grant and revoke with its own idempotency key and decides about overlaps.
  keepsGrantsApart: true,
  create: (config, options) => new WebhookConnector(config, options),
};
