import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseExposition, sampleValue, scrape } from "../helpers/prometheus.js";
import { runRevokeAtExpiry, startSesame, type TestSesame } from "../helpers/sesame.js";
import { waitFor } from "../helpers/wait.js";
import { activeGrant, requestAndApprove, waitForGrantStatus } from "./support.js";

/**
 * GET /metrics from a whole Sesame after real lifecycles with the noop connector: request
 * outcomes, decision / activation / revoke-lateness histograms, connector failures, sweeper
 * repairs and queue gauges move; the bearer token is enforced; a worker serves its own port.
 */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: carol, email: carol@example.com }
connectors:
  noop: { type: noop }
  flaky: { type: noop, config: { failGrant: 1 } }
resources:
  app-db: { connector: noop, target: { role: app } }
  flaky-db: { connector: flaky, target: { role: flaky } }
policies:
  - id: app
    resources: [app-db, flaky-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 2h }
    reason: { required: false }
    approvers: { users: [carol] }
`;

const TOKEN = "metrics-token-0123456789abcdef";
let sesame: TestSesame;

beforeAll(async () => {
  sesame = await startSesame("int_metrics", {
    policy,
    identities: ["alice", "carol"],
    env: { SESAME_METRICS_TOKEN: TOKEN },
  });
});

afterAll(async () => {
  await sesame?.stop();
});

const metricsOf = async (url: string) => {
  const { status, text } = await scrape(url, TOKEN);
  expect(status).toBe(200);
  return parseExposition(text);
};

describe("GET /metrics on the main port", () => {
  it("refuses a scrape without the token, or with a wrong one", async () => {
    const none = await scrape(`${sesame.baseUrl}/metrics`);
    expect(none.status).toBe(401);
    expect(none.text).not.toContain("sesame_requests_total");
    expect((await scrape(`${sesame.baseUrl}/metrics`, `${TOKEN}x`)).status).toBe(401);
    expect((await scrape(`${sesame.baseUrl}/metrics`, TOKEN)).status).toBe(200);
  });

  it("counts a request's life: submitted, approved, activated, revoked at expiry", async () => {
    const { grantId } = await activeGrant(sesame, "alice", "carol", { resource: "app-db" });
    await runRevokeAtExpiry(sesame, grantId);
    await waitForGrantStatus(sesame, "alice", grantId, "revoked");

    const samples = await metricsOf(`${sesame.baseUrl}/metrics`);
    expect(
      sampleValue(samples, "sesame_requests_total", { outcome: "submitted", kind: "access" }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, "sesame_requests_total", { outcome: "approved" })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, "sesame_request_decision_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, "sesame_grant_activation_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, "sesame_revoke_lateness_seconds_count")).toBe(1);
    // The clock moved to one second past expiry before the revoke ran.
    expect(sampleValue(samples, "sesame_revoke_lateness_seconds_bucket", { le: "0.5" })).toBe(0);
    expect(sampleValue(samples, "sesame_revoke_lateness_seconds_bucket", { le: "+Inf" })).toBe(1);
    // Default process metrics are there too; labels never carry ids.
    expect(sampleValue(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    expect(labelValues).not.toContain(grantId);
    expect(labelValues).not.toContain("alice");
  });

  it("counts connector failures by connector and operation", async () => {
    const { grantId } = await requestAndApprove(sesame, "alice", "carol", { resource: "flaky-db" });
    // The first grant call fails, the job's retry succeeds.
    await waitForGrantStatus(sesame, "alice", grantId, "active");
    const samples = await metricsOf(`${sesame.baseUrl}/metrics`);
    expect(sampleValue(samples, "sesame_connector_failures_total", { connector: "flaky", operation: "grant" })).toBe(1);
    expect(sampleValue(samples, "sesame_connector_failures_total", { connector: "noop" })).toBe(0);
  });

  it("counts sweeper repairs by kind and shows queue depth", async () => {
    const { grantId } = await activeGrant(sesame, "alice", "carol", { resource: "app-db" });
    await sesame.flushRedis();
    const report = await sesame.started.sweeper?.runOnce();
    expect(report?.revokeJobsRestored).toBeGreaterThanOrEqual(1);
    await waitFor(() => sesame.runtime.deps.jobs.hasRevokeJob(grantId), "the restored revoke job");

    const samples = await metricsOf(`${sesame.baseUrl}/metrics`);
    expect(
      sampleValue(samples, "sesame_sweeper_repairs_total", { kind: "revoke_jobs_restored" }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, "sesame_queue_jobs", { queue: "revokes", state: "delayed" })).toBeGreaterThanOrEqual(1);
    expect(samples.some((s) => s.name === "sesame_queue_oldest_job_age_seconds" && s.labels.queue === "grants")).toBe(
      true,
    );
  });
});

describe("a worker process", () => {
  it("serves /metrics on SESAME_METRICS_PORT, behind the same token", async () => {
    const worker = await startSesame("int_metrics_worker", {
      policy,
      identities: [],
      role: "worker",
      env: { SESAME_METRICS_PORT: "0", SESAME_METRICS_TOKEN: TOKEN },
    });
    try {
      expect(worker.baseUrl).toBe("");
      const url = `${worker.started.metricsUrl}/metrics`;
      expect(worker.started.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await scrape(url)).status).toBe(401);
      const samples = await metricsOf(url);
      expect(samples.some((s) => s.name === "nodejs_heap_size_used_bytes")).toBe(true);
      expect(samples.some((s) => s.name === "sesame_queue_jobs")).toBe(true);
      expect((await scrape(`${worker.started.metricsUrl}/nope`)).status).toBe(404);
    } finally {
      await worker.stop();
    }
  });

  it("refuses to start when SESAME_METRICS_PORT is taken, naming the variable", async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const { port } = squatter.address() as AddressInfo;
    try {
      await expect(
        startSesame("int_metrics_taken", {
          policy,
          identities: [],
          role: "worker",
          env: { SESAME_METRICS_PORT: String(port) },
        }),
      ).rejects.toThrow(`SESAME_METRICS_PORT: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
    } finally {
      squatter.close();
    }
  });
});
