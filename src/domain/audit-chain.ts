import { createHash } from "node:crypto";

/**
 * Hash chain of the audit log. Each row's hash covers its own content and the previous row's
 * hash, so editing, deleting or reordering any row breaks every hash after it.
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

export interface ChainedAuditRow extends AuditContent {
  seq: bigint;
  prevHash: string;
  hash: string;
}

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

export type ChainVerdict =
  | { ok: true; checked: number; lastHash: string }
  | { ok: false; checked: number; seq: bigint; problem: string };

/**
 * Verifies rows in `seq` order. Sequence gaps are normal (rolled-back transactions); broken links
 * are not. The chain alone cannot show that its newest rows were deleted: pass a head hash
 * recorded earlier (`knownHash`) and the verdict fails when the chain no longer contains it.
 */
export async function verifyAuditChain(
  rows: AsyncIterable<ChainedAuditRow> | Iterable<ChainedAuditRow>,
  options: { knownHash?: string } = {},
): Promise<ChainVerdict> {
  let knownHashSeen = options.knownHash === undefined;
  let expectedPrev = GENESIS_HASH;
  let checked = 0;
  let lastSeq: bigint | undefined;
  for await (const row of rows) {
    if (lastSeq !== undefined && row.seq <= lastSeq) {
      return { ok: false, checked, seq: row.seq, problem: `row ${row.seq} is out of order (after ${lastSeq})` };
    }
    if (row.prevHash !== expectedPrev) {
      return {
        ok: false,
        checked,
        seq: row.seq,
        problem: `row ${row.seq} does not follow the previous row: a row was deleted, inserted or reordered before it`,
      };
    }
    if (computeAuditHash(row.prevHash, row) !== row.hash) {
      return {
        ok: false,
        checked,
        seq: row.seq,
        problem: `row ${row.seq} was edited: its content no longer matches its hash`,
      };
    }
    expectedPrev = row.hash;
    lastSeq = row.seq;
    checked += 1;
    if (row.hash === options.knownHash) knownHashSeen = true;
  }
  if (!knownHashSeen) {
    return {
      ok: false,
      checked,
      seq: lastSeq ?? 0n,
      problem: `the chain no longer contains the hash ${options.knownHash} recorded earlier: its newest rows were deleted`,
    };
  }
  return { ok: true, checked, lastHash: expectedPrev };
}
