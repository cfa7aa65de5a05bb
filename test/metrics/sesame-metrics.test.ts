import { describe, expect, it } from "vitest";
import { scrapeAllowed } from "../../src/metrics/metrics-endpoint.js";
import type { CountableQueue } from "../../src/metrics/queue-gauges.js";
import { createSesameMetrics } from "../../src/metrics/sesame-metrics.js";
import { metricNames, parseExposition, sampleValue } from "../helpers/prometheus.js";

/** The registry on its own, with a stand-in queue and lease store (no Redis, no database needed). */

const NOW = new Date("2026-01-01T12:00:00Z");

function queue(name: string, waitingSince?: number): CountableQueue {
  return {
    name,
    getJobCounts: async () => ({ waiting: waitingSince ? 1 : 0, delayed: 2, active: 0, failed: 3 }),
    getJobs: async (states) => (states[0] === "wait" && waitingSince ? [{ timestamp: waitingSince }] : []),
  };
}

function metricsWithLease(held: boolean) {
  const taken: string[] = [];
  const metrics = createSesameMetrics({
    queues: [queue("grants", NOW.getTime() - 42_000), queue("revokes")],
    store: {
      takeNamedLease: async (name) => {
        taken.push(name);
        return held;
      },
      releaseNamedLease: async () => undefined,
    },
    instanceId: "test",
    now: () => NOW,
  });
  return { metrics, taken };
}

describe("queue gauges", () => {
  it("are exported by the lease holder, once per scrape", async () => {
    const { metrics, taken } = metricsWithLease(true);
    const samples = parseExposition((await metrics.scrape()).body);
    expect(sampleValue(samples, "sesame_queue_jobs", { queue: "grants", state: "failed" })).toBe(3);
    expect(sampleValue(samples, "sesame_queue_jobs", { queue: "revokes", state: "delayed" })).toBe(2);
    expect(sampleValue(samples, "sesame_queue_oldest_job_age_seconds", { queue: "grants" })).toBe(42);
    expect(sampleValue(samples, "sesame_queue_oldest_job_age_seconds", { queue: "revokes" })).toBe(0);
    // Both gauges shared one look at the queues (one lease check).
    expect(taken).toEqual(["metrics-queues"]);
    await metrics.close();
  });

  it("are left out by every other process, so sums over processes stay right", async () => {
    const { metrics } = metricsWithLease(false);
    const text = (await metrics.scrape()).body;
    expect(parseExposition(text).filter((s) => s.name.startsWith("sesame_queue_"))).toEqual([]);
    // The families are still declared, so a dashboard finds them.
    expect(metricNames(text).has("sesame_queue_jobs")).toBe(true);
    await metrics.close();
  });
});

describe("the recorder", () => {
  it("counts into its own registry, never a shared one", async () => {
    const one = metricsWithLease(false).metrics;
    const two = metricsWithLease(false).metrics;
    one.recorder.requestOutcome("approved", "access");
    one.recorder.sweeperRepairs("revokeJobsRestored", 3);
    one.recorder.chatDelivery("slack", "delivered");
    one.recorder.actionFinished?.("write", "unknown");
    one.watchAuditWebhookLag(() => 7);
    const first = parseExposition((await one.scrape()).body);
    const second = parseExposition((await two.scrape()).body);
    expect(sampleValue(first, "sesame_requests_total", { outcome: "approved", kind: "access" })).toBe(1);
    expect(sampleValue(first, "sesame_sweeper_repairs_total", { kind: "revoke_jobs_restored" })).toBe(3);
    expect(sampleValue(first, "sesame_chat_deliveries_total", { platform: "slack", outcome: "delivered" })).toBe(1);
    expect(sampleValue(first, "sesame_audit_webhook_lag_seconds")).toBe(7);
    expect(sampleValue(first, "sesame_actions_total", { class: "write", outcome: "unknown" })).toBe(1);
    expect(sampleValue(second, "sesame_requests_total")).toBe(0);
    expect(second.some((s) => s.name === "sesame_audit_webhook_lag_seconds")).toBe(false);
    await one.close();
    await two.close();
  });
});

describe("the scrape token", () => {
  it("lets anyone scrape when unset, and only the bearer of the token when set", () => {
    expect(scrapeAllowed(undefined, undefined)).toBe(true);
    expect(scrapeAllowed(undefined, "s3cret-token")).toBe(false);
    expect(scrapeAllowed("Bearer s3cret-toke", "s3cret-token")).toBe(false);
    expect(scrapeAllowed("Basic s3cret-token", "s3cret-token")).toBe(false);
    expect(scrapeAllowed("Bearer s3cret-token", "s3cret-token")).toBe(true);
  });
});
