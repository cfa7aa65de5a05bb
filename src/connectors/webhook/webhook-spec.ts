import type { ConnectorSpec } from "../connector.js";
import { type WebhookConfig, WebhookConfigSchema, type WebhookTarget, WebhookTargetSchema } from "./webhook-config.js";

/** What the policy loader needs to know about the webhook connector; the implementation loads on first use. */
export const webhookConnectorSpec: ConnectorSpec<WebhookConfig, WebhookTarget> = {
  type: "webhook",
  description: "Any system: POSTs signed grant and revoke events to your own HTTP receiver.",
  configSchema: WebhookConfigSchema,
  targetSchema: WebhookTargetSchema,
  secretFields: ["secret"],
  // The receiver sees every grant and revoke with its own idempotency key and decides about overlaps.
  keepsGrantsApart: true,
  load: async () => (await import("./webhook-connector.js")).webhookConnectorDefinition,
};
