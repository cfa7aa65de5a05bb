import { type AuditContent, type AuditLink, computeAuditHash, GENESIS_HASH } from "./audit-chain.js";

/** A link as read back for verification, with its event's content (null when the event row is gone). */
export interface ChainEntry extends Omit<AuditLink, "watermark"> {
  event: AuditContent | null;
}

/** The events that have no link, judged against the newest link's watermark. */
export interface UnchainedEvents {
  /** The oldest event below the watermark without a link: the chainer never leaves one behind. */
  strayedSeq: bigint | null;
  /** Events at or above the watermark: their transaction, or an older one, was still running. */
  waiting: number;
}

export type ChainVerdict =
  | { ok: true; checked: number; lastHash: string; waiting: number }
  | { ok: false; checked: number; seq: bigint; problem: string };

/** What is wrong with one entry, given where the chain so far says it must stand; undefined when nothing. */
function entryProblem(entry: ChainEntry, position: bigint, prevHash: string): string | undefined {
  const where = `event ${entry.eventSeq} (chain position ${entry.position})`;
  if (entry.position !== position) {
    return `${where} comes after position ${position - 1n}: the links in between were deleted`;
  }
  if (entry.event === null) return `${where} was deleted: its link is still in the chain`;
  if (entry.prevHash !== prevHash) {
    return `${where} does not follow the previous link: a link was deleted, inserted or reordered before it`;
  }
  if (computeAuditHash(entry.prevHash, entry.event) !== entry.hash) {
    return `${where} was edited: its content no longer matches its hash`;
  }
  return undefined;
}

/**
 * Verifies the links in position order. The chain alone cannot show that its newest links were
 * deleted: pass a head hash recorded earlier (`knownHash`) and the verdict fails when the chain
 * no longer contains it. Events without a link are judged by `judgeUnchained`.
 */
export async function verifyAuditChain(
  entries: AsyncIterable<ChainEntry> | Iterable<ChainEntry>,
  options: { knownHash?: string } = {},
): Promise<ChainVerdict> {
  let knownHashSeen = options.knownHash === undefined;
  let expectedPrev = GENESIS_HASH;
  let expectedPosition = 1n;
  let checked = 0;
  let lastSeq = 0n;
  for await (const entry of entries) {
    const problem = entryProblem(entry, expectedPosition, expectedPrev);
    if (problem) return { ok: false, checked, seq: entry.eventSeq, problem };
    expectedPrev = entry.hash;
    expectedPosition = entry.position + 1n;
    lastSeq = entry.eventSeq;
    checked += 1;
    if (entry.hash === options.knownHash) knownHashSeen = true;
  }
  if (!knownHashSeen) {
    return {
      ok: false,
      checked,
      seq: lastSeq,
      problem: `the chain no longer contains the hash ${options.knownHash} recorded earlier: its newest links were deleted`,
    };
  }
  return { ok: true, checked, lastHash: expectedPrev, waiting: 0 };
}

/**
 * Adds the events without a link to an intact verdict. Those the chainer has not reached yet are
 * normal; one below the watermark was never there when the chainer passed it.
 */
export function judgeUnchained(verdict: ChainVerdict, unchained: UnchainedEvents): ChainVerdict {
  if (!verdict.ok) return verdict;
  if (unchained.strayedSeq !== null) {
    return {
      ok: false,
      checked: verdict.checked,
      seq: unchained.strayedSeq,
      problem:
        `event ${unchained.strayedSeq} is not in the chain although the chainer linked every event as old: ` +
        "it was inserted afterwards (or its link was deleted)",
    };
  }
  return { ...verdict, waiting: unchained.waiting };
}
