import { createHash } from "node:crypto";

/**
 * Hash chain of the audit log. Events are written without a chain (a business transaction must
 * not wait for another to learn the previous hash); a chainer links them afterwards, one link per
 * event. Each link's hash covers its event's content and the previous link's hash, so editing,
 * deleting or reordering anything chained breaks every hash after it.
 */

export const GENESIS_HASH = "0".repeat(64);

export interface AuditContent {
  at: Date;
  type: string;
  actorId: string | null;
  requestId: string | null;
  grantId: string | null;
  data: unknown;
}

export interface AuditEventRecord extends AuditContent {
  seq: bigint;
}

/**
 * One link of the chain. `watermark` is a transaction id: when the link was written, every event
 * inserted by a transaction with a smaller id was linked at or before it.
 */
export interface AuditLink {
  position: bigint;
  eventSeq: bigint;
  prevHash: string;
  hash: string;
  watermark: bigint;
}

export type ChainTip = Pick<AuditLink, "position" | "hash" | "watermark">;

/** Where an empty chain ends: the first link is position 1 and follows the genesis hash. */
export const CHAIN_START: ChainTip = { position: 0n, hash: GENESIS_HASH, watermark: 0n };

/** JSON with object keys sorted at every level, so the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** The formula the chain has always used (links copied from the old per-row chain keep their hashes). */
export function computeAuditHash(prevHash: string, content: AuditContent): string {
  const body = canonicalJson({
    prevHash,
    at: content.at.toISOString(),
    type: content.type,
    actorId: content.actorId,
    requestId: content.requestId,
    grantId: content.grantId,
    data: content.data,
  });
  return createHash("sha256").update(body).digest("hex");
}

/** Links `events`, in the order given, after `tip`; every new link carries `watermark`. */
export function linkEvents(tip: ChainTip, events: readonly AuditEventRecord[], watermark: bigint): AuditLink[] {
  let position = tip.position;
  let prevHash = tip.hash;
  return events.map((event) => {
    position += 1n;
    const link: AuditLink = {
      position,
      eventSeq: event.seq,
      prevHash,
      hash: computeAuditHash(prevHash, event),
      watermark,
    };
    prevHash = link.hash;
    return link;
  });
}
