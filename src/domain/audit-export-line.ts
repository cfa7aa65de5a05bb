import type { AuditEventRecord } from "./audit-chain.js";
import type { ChainEntry } from "./audit-chain-verify.js";

/**
 * One audit event as Sesame hands it out (`sesame audit export`, the audit webhook): the chain
 * position, the event's content and its link hashes. `seq` is the event's id, the same in every
 * export and delivery, so a receiver de-duplicates on it. A link whose event row is gone is still
 * handed out, with its hashes only, so an offline check names the deletion.
 */
export type AuditExportLine = Record<string, unknown> & { position: bigint | null; seq: bigint };

export function chainedLine({ position, eventSeq, prevHash, hash, event }: ChainEntry): AuditExportLine {
  return { position, seq: eventSeq, ...event, prevHash, hash };
}

/** An event not linked yet (or linked after the export walked past it): no position, no hashes. */
export function unchainedLine({ seq, ...content }: AuditEventRecord): AuditExportLine {
  return { position: null, seq, ...content, prevHash: null, hash: null };
}

/** JSON with the bigint fields (position, seq) as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === "bigint" ? `${item}` : item));
}
