import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Metrics } from "../services/ports.js";
import { type CountableQueue, createQueueGauges, type QueueGaugeOptions } from "./queue-gauges.js";

/**
 * One process's metrics: its own prom-client registry (never the global one, so two Sesames in
 * one test process do not mix), the recorder the services count through, and the gauges read at
 * scrape time.
 */
export interface SesameMetrics {
  registry: Registry;
  /** The port the services and workers count through. */
  recorder: Metrics;
  /** Reads the audit webhook's lag at every scrape (only worker processes run the webhook). */
  watchAuditWebhookLag(lagSeconds: () => number | undefined): void;
  /** The Prometheus text exposition of everything above. */
  scrape(): Promise<{ contentType: string; body: string }>;
  close(): Promise<void>;
}

export interface SesameMetricsOptions extends Omit<QueueGaugeOptions, "registry"> {
  queues: CountableQueue[];
}

const snake = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

export function createSesameMetrics(options: SesameMetricsOptions): SesameMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "sesame_requests_total",
    help: "Requests submitted, and requests reaching an end state, by outcome and kind (access, extension)",
    labelNames: ["outcome", "kind"],
    registers,
  });
  const decision = new Histogram({
    name: "sesame_request_decision_seconds",
    help: "Seconds from a request's creation to its decision (approved or denied; 0 when auto-approved)",
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400],
    registers,
  });
  const activation = new Histogram({
    name: "sesame_grant_activation_seconds",
    help: "Seconds from approval (or the grant's start, if later) to access active on the target",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
    registers,
  });
  const lateness = new Histogram({
    name: "sesame_revoke_lateness_seconds",
    help: "Seconds from an expiring grant's expiresAt to its access revoked on the target",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers,
  });
  const actions = new Counter({
    name: "sesame_actions_total",
    help: "Actions (one approved SQL statement, Kubernetes operation or runner command each) run to an end, by class and outcome (succeeded, failed, unknown)",
    labelNames: ["class", "outcome"],
    registers,
  });
  const connectorFailures = new Counter({
    name: "sesame_connector_failures_total",
    help: "Failed connector calls, by connector and operation (grant, revoke, cleanup)",
    labelNames: ["connector", "operation"],
    registers,
  });
  const repairs = new Counter({
    name: "sesame_sweeper_repairs_total",
    help: "What the sweeper repaired that jobs had not done, by kind",
    labelNames: ["kind"],
    registers,
  });
  const chat = new Counter({
    name: "sesame_chat_deliveries_total",
    help: "Chat messages delivered, retried or failed for good, by platform",
    labelNames: ["platform", "outcome"],
    registers,
  });
  let auditLag: (() => number | undefined) | undefined;
  new Gauge({
    name: "sesame_audit_webhook_lag_seconds",
    help: "Seconds the oldest audit event not yet delivered to SESAME_AUDIT_WEBHOOK_URL has waited (0 when caught up; only the delivering process reports it)",
    // A label, so a process that does not deliver reports nothing rather than a 0.
    labelNames: ["sink"],
    registers,
    collect() {
      const lag = auditLag?.();
      this.reset();
      if (lag !== undefined) this.set({ sink: "webhook" }, lag);
    },
  });
  const queueGauges = createQueueGauges({ ...options, registry });

  const recorder: Metrics = {
    requestOutcome: (outcome, kind) => requests.inc({ outcome, kind }),
    requestDecided: (seconds) => decision.observe(seconds),
    grantActivated: (seconds) => activation.observe(seconds),
    grantRevokedLate: (seconds) => lateness.observe(seconds),
    connectorFailure: (connector, operation) => connectorFailures.inc({ connector, operation }),
    sweeperRepairs: (kind, count) => repairs.inc({ kind: snake(kind) }, count),
    chatDelivery: (platform, outcome) => chat.inc({ platform, outcome }),
    actionFinished: (actionClass, outcome) => actions.inc({ class: actionClass, outcome }),
  };
  return {
    registry,
    recorder,
    watchAuditWebhookLag(lagSeconds) {
      auditLag = lagSeconds;
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    async close() {
      await queueGauges.close();
      registry.clear();
    },
  };
}
