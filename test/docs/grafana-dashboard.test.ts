import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricNames, metricsIn, scrape } from "../helpers/prometheus.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";

/**
 * docs/grafana-dashboard.json: every panel's every PromQL query names only metrics a started
 * Sesame really exports (read from a live scrape of its /metrics), so a renamed metric cannot
 * leave an empty panel behind.
 */

const dashboard = JSON.parse(readFileSync(new URL("../../docs/grafana-dashboard.json", import.meta.url), "utf8"));

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

const panels: Panel[] = dashboard.panels.filter((panel: Panel) => panel.type !== "row");
let sesame: TestSesame;
let exported: Set<string>;

beforeAll(async () => {
  sesame = await startSesame("docs_grafana", {
    policy: `
version: 1
people: [{ id: alice, email: alice@example.com }]
connectors: { noop: { type: noop } }
resources: { app-db: { connector: noop, target: { role: app } } }
policies:
  - id: app
    resources: [app-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 2h }
    approvers: { users: [alice] }
`,
    identities: [],
  });
  const { status, text } = await scrape(`${sesame.baseUrl}/metrics`);
  expect(status).toBe(200);
  exported = metricNames(text);
});

afterAll(async () => {
  await sesame?.stop();
});

describe("the Grafana dashboard", () => {
  it("reads its PromQL the way the test means to", () => {
    expect(
      metricsIn('histogram_quantile(0.99, sum by (le) (rate(sesame_x_bucket{a="b(c)"}[$__rate_interval]))) * 60'),
    ).toEqual(["sesame_x_bucket"]);
    expect(metricsIn("sum(rate(a_sum[5m])) / sum(rate(a_count[5m]))")).toEqual(["a_sum", "a_count"]);
  });

  it("has panels, each with at least one query", () => {
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of panels) expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
  });

  it("queries in every panel only metrics Sesame exports", () => {
    const unknown: string[] = [];
    for (const panel of panels)
      for (const { expr } of panel.targets ?? []) {
        const names = metricsIn(expr);
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) if (!exported.has(name)) unknown.push(`${panel.title}: ${name}`);
      }
    expect(unknown).toEqual([]);
  });

  it("graphs every sesame_ metric family Sesame exports", () => {
    const queried = new Set(panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricsIn(t.expr))));
    const families = [...exported].filter((name) => name.startsWith("sesame_") && !/_(bucket|sum|count)$/.test(name));
    const missing = families.filter(
      (name) => !queried.has(name) && !["_bucket", "_sum", "_count"].some((s) => queried.has(`${name}${s}`)),
    );
    expect(missing).toEqual([]);
  });
});
