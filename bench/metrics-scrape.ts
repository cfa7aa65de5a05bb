import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * `--metrics-dir DIR`: saves each Sesame process's GET /metrics as the run left it
 * (`<prefix>-<role>.prom`), for scripts/draw-histograms.ts. A failed scrape is a problem of the
 * run, not its end.
 */
export async function saveMetrics(
  dir: string,
  prefix: string,
  urls: Record<string, string>,
  problems: string[],
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [role, url] of Object.entries(urls)) {
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      await writeFile(join(dir, `${prefix}-${role}.prom`), await response.text());
    } catch (error) {
      problems.push(`GET ${url} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
