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
  while (!options.signal.aborted) {
    await chainAuditEvents(db);
    const page = await readChainPage(db, after, PAGE_SIZE);
    for (const entry of page) await write(chainedLine(entry));
    if (page.length > 0) after = page[page.length - 1]!.position;
    if (page.length < PAGE_SIZE) await delay(options.intervalMs, undefined, { signal: options.signal }).catch(() => {});
  }
}
