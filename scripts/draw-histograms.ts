/**
 * `npx tsx scripts/draw-histograms.ts run-1-all.prom [more.prom …] > docs/bench-histograms.svg`:
 * draws Sesame's histograms (time to decision, approval → active, revoke lateness) from scrapes
 * of GET /metrics, such as `npm run bench -- --metrics-dir DIR` saves. Scrapes of several
 * processes are added up, as Prometheus would. No Prometheus needed; the output is a plain SVG.
 */
import { readFileSync } from "node:fs";

const HISTOGRAMS: Record<string, string> = {
  sesame_request_decision_seconds: "Request → decision",
  sesame_grant_activation_seconds: "Approval → access active",
  sesame_revoke_lateness_seconds: "expiresAt → revoked (lateness)",
};

interface Histogram {
  /** Cumulative counts by upper bound, in bucket order (+Inf last). */
  buckets: Map<string, number>;
  sum: number;
  count: number;
}

function read(files: string[]): Map<string, Histogram> {
  const histograms = new Map<string, Histogram>();
  const get = (name: string) => {
    const histogram = histograms.get(name) ?? { buckets: new Map<string, number>(), sum: 0, count: 0 };
    histograms.set(name, histogram);
    return histogram;
  };
  for (const file of files)
    for (const line of readFileSync(file, "utf8").split("\n")) {
      const match = /^(sesame_\w+?)_(bucket|sum|count)(?:\{([^}]*)\})? (\S+)$/.exec(line);
      if (!match || !(match[1]! in HISTOGRAMS)) continue;
      const histogram = get(match[1]!);
      const value = Number(match[4]);
      if (match[2] === "sum") histogram.sum += value;
      else if (match[2] === "count") histogram.count += value;
      else {
        const le = /le="([^"]+)"/.exec(match[3] ?? "")?.[1] ?? "+Inf";
        histogram.buckets.set(le, (histogram.buckets.get(le) ?? 0) + value);
      }
    }
  return histograms;
}

/** The upper bound of the bucket holding quantile q (what histogram_quantile would interpolate within). */
function quantileBound(histogram: Histogram, q: number): string {
  for (const [le, cumulative] of histogram.buckets) if (cumulative >= q * histogram.count) return le;
  return "+Inf";
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
/** A bucket bound as a person reads it: 250ms, 5s, 2m, 4h, 1d. */
function seconds(le: string): string {
  if (le === "+Inf") return "more";
  const value = Number(le);
  if (value < 1) return `${value * 1000}ms`;
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
  ] as const)
    if (value >= size && value % size === 0) return `${value / size}${unit}`;
  return `${value}s`;
}

function panel(title: string, histogram: Histogram, top: number): string {
  const width = 760;
  const height = 170;
  const left = 40;
  const bars = [...histogram.buckets.entries()].map(([le, cumulative], index, all) => ({
    le,
    count: cumulative - (index > 0 ? all[index - 1]![1] : 0),
  }));
  const max = Math.max(1, ...bars.map((bar) => bar.count));
  const slot = (width - left - 10) / bars.length;
  const mean = histogram.count > 0 ? histogram.sum / histogram.count : 0;
  const header = `${title}: ${histogram.count} observed, mean ${(mean * 1000).toFixed(1)} ms, p50 ≤ ${seconds(
    quantileBound(histogram, 0.5),
  )}, p99 ≤ ${seconds(quantileBound(histogram, 0.99))}`;
  const parts = [`<text x="${left}" y="${top + 16}" font-size="14" font-weight="600">${escapeXml(header)}</text>`];
  const base = top + 30 + height;
  for (const [index, bar] of bars.entries()) {
    const h = (bar.count / max) * height;
    const x = left + index * slot;
    parts.push(
      `<rect x="${(x + 2).toFixed(1)}" y="${(base - h).toFixed(1)}" width="${(slot - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="#5b5fc7"/>`,
      `<text x="${(x + slot / 2).toFixed(1)}" y="${base + 14}" font-size="10" text-anchor="middle">≤ ${escapeXml(seconds(bar.le))}</text>`,
    );
    if (bar.count > 0)
      parts.push(
        `<text x="${(x + slot / 2).toFixed(1)}" y="${(base - h - 3).toFixed(1)}" font-size="10" text-anchor="middle">${bar.count}</text>`,
      );
  }
  parts.push(`<line x1="${left}" y1="${base}" x2="${width}" y2="${base}" stroke="#888"/>`);
  return parts.join("\n");
}

function main(): void {
  const files = process.argv.slice(2);
  if (files.length === 0) throw new Error("usage: tsx scripts/draw-histograms.ts FILE.prom [FILE.prom …] > out.svg");
  const histograms = [...read(files).entries()].filter(([, histogram]) => histogram.count > 0);
  const panelHeight = 240;
  const body = histograms.map(([name, histogram], index) =>
    panel(HISTOGRAMS[name]!, histogram, 10 + index * panelHeight),
  );
  const height = 20 + histograms.length * panelHeight;
  process.stdout.write(
    `<svg xmlns="http://www.w3.org/2000/svg" width="780" height="${height}" font-family="system-ui, sans-serif">\n<title>Sesame histograms from scraped /metrics</title>\n<rect width="100%" height="100%" fill="#fff"/>\n${body.join("\n")}\n</svg>\n`,
  );
}

main();
