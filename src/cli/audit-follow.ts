import { setTimeout as delay } from "node:timers/promises";
import { type AuditExportLine, chainedLine } from "../domain/audit-export-line.js";
import { chainAuditEvents } from "../storage/audit-chainer.js";
import { readChainPage } from "../storage/audit-repository.js";
import type { Database } from "../storage/prisma-client.js";

const PAGE_SIZE = 1000;

export interface FollowOptions {
  /** The chain position already written; following starts after it. */
  after: bigint;
  /** How long to wait for new links when the chain has been written up to its tip. */
  intervalMs: number;
  /** Stops following (Ctrl-C); the page being written is finished first. */
  signal: AbortSignal;
  /** Told once when Sesame's database cannot be read, and once when it can again. */
  onOutage?: (state: "down" | "up", error?: unknown) => void;
}

/**
 * Writes chained events as the chain grows, in chain order, until `signal` aborts. Only linked
 * events are written: an event's position and hashes are final once linked, so a SIEM that stores
 * each line once never needs to correct one. Linking is done here too (the chainer's own lock
 * makes that safe beside the workers), so following works even when no worker runs.
 */
export async function followAuditChain(
  db: Database,
  write: (line: AuditExportLine) => Promise<void>,
  options: FollowOptions,
): Promise<void> {
  let after = options.after;
  let failures = 0;
  while (!options.signal.aborted) {
    let page: Awaited<ReturnType<typeof readChainPage>>;
    try {
      await chainAuditEvents(db);
      page = await readChainPage(db, after, PAGE_SIZE);
    } catch (error) {
      // A database restart must not end a follower a SIEM relies on: wait, then go on from the
      // same position (nothing was written for the failed read, so nothing is skipped or doubled).
      failures += 1;
      if (failures === 1) options.onOutage?.("down", error);
      const wait = Math.min(30_000, options.intervalMs * 2 ** Math.min(failures - 1, 10));
      await delay(wait, undefined, { signal: options.signal }).catch(() => {});
      continue;
    }
    if (failures > 0) options.onOutage?.("up");
    failures = 0;
    for (const entry of page) {
      if (options.signal.aborted) return;
      await write(chainedLine(entry));
      after = entry.position;
    }
    if (page.length < PAGE_SIZE) await delay(options.intervalMs, undefined, { signal: options.signal }).catch(() => {});
  }
}
