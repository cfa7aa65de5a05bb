import { describe, expect, it } from "vitest";
import {
  type AuditContent,
  CHAIN_START,
  computeAuditHash,
  GENESIS_HASH,
  linkEvents,
} from "../../src/domain/audit-chain.js";
import { type ChainEntry, judgeUnchained, verifyAuditChain } from "../../src/domain/audit-chain-verify.js";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");

function content(i: number): AuditContent {
  return {
    at: new Date(T0 + i * 1000),
    type: i % 2 ? "request.approved" : "request.submitted",
    actorId: `user-${i}`,
    requestId: `req-${i}`,
    grantId: null,
    data: { index: i, nested: { list: [i, i + 1] } },
  };
}

/** A correctly linked chain over events with the given seqs, in that (chain) order. */
function chain(seqs: number[]): ChainEntry[] {
  const events = seqs.map((seq, i) => ({ ...content(i), seq: BigInt(seq) }));
  return linkEvents(CHAIN_START, events, 100n).map(({ watermark: _, ...link }, i) => ({
    ...link,
    event: content(i),
  }));
}

async function* streamed<T>(rows: T[]): AsyncGenerator<T> {
  for (const row of rows) yield row;
}

describe("verifyAuditChain", () => {
  it("accepts an empty chain, ending at the genesis hash", async () => {
    expect(await verifyAuditChain([])).toEqual({ ok: true, checked: 0, lastHash: GENESIS_HASH, waiting: 0 });
  });

  it("accepts a chain whose seqs have gaps and are out of order (late commits), from an array or a stream", async () => {
    const entries = chain([1, 2, 7, 5, 10]);
    const expected = { ok: true, checked: 5, lastHash: entries[4]!.hash, waiting: 0 };
    expect(await verifyAuditChain(entries)).toEqual(expected);
    expect(await verifyAuditChain(streamed(entries))).toEqual(expected);
  });

  it("names an edited event", async () => {
    const entries = chain([1, 2, 3, 4]);
    entries[2] = {
      ...entries[2]!,
      event: { ...entries[2]!.event!, data: { index: 2, reason: "approved by the CEO" } },
    };
    const verdict = await verifyAuditChain(entries);
    expect(verdict).toMatchObject({ ok: false, checked: 2, seq: 3n });
    expect(verdict.ok || verdict.problem).toMatch(/event 3 \(chain position 3\) was edited/);
  });

  it.each(["at", "type", "actorId", "requestId", "grantId"] as const)("detects an edit of %s alone", async (field) => {
    const entries = chain([1, 2, 3]);
    const event = entries[1]!.event!;
    const forged =
      field === "at" ? { ...event, at: new Date(event.at.getTime() + 1) } : { ...event, [field]: "forged" };
    entries[1] = { ...entries[1]!, event: forged };
    expect(await verifyAuditChain(entries)).toMatchObject({ ok: false, seq: 2n });
  });

  it("names an event deleted under its link", async () => {
    const entries = chain([1, 2, 3]);
    entries[1] = { ...entries[1]!, event: null };
    const verdict = await verifyAuditChain(entries);
    expect(verdict).toMatchObject({ ok: false, checked: 1, seq: 2n });
    expect(verdict.ok || verdict.problem).toMatch(/event 2 \(chain position 2\) was deleted/);
  });

  it("names the event after deleted links, first or middle", async () => {
    const middle = chain([1, 2, 3, 4]);
    middle.splice(1, 2);
    const verdict = await verifyAuditChain(middle);
    expect(verdict).toMatchObject({ ok: false, checked: 1, seq: 4n });
    expect(verdict.ok || verdict.problem).toMatch(/comes after position 1: the links in between were deleted/);
    expect(await verifyAuditChain(chain([1, 2, 3]).slice(1))).toMatchObject({ ok: false, checked: 0, seq: 2n });
  });

  it("names the first of two links swapped in position", async () => {
    const entries = chain([1, 2, 3, 4]);
    const [second, third] = [entries[1]!, entries[2]!];
    entries[1] = { ...third, position: second.position };
    entries[2] = { ...second, position: third.position };
    const verdict = await verifyAuditChain(entries);
    expect(verdict).toMatchObject({ ok: false, checked: 1, seq: 3n });
    expect(verdict.ok || verdict.problem).toMatch(/does not follow the previous link/);
  });

  it("names the link after one inserted with a self-consistent hash", async () => {
    const entries = chain([1, 2, 3]);
    const forgedEvent: AuditContent = { ...content(9), type: "grant.revoked" };
    const forged = {
      position: 3n,
      eventSeq: 9n,
      prevHash: entries[1]!.hash,
      hash: computeAuditHash(entries[1]!.hash, forgedEvent),
      event: forgedEvent,
    };
    entries.splice(2, 1, forged, { ...entries[2]!, position: 4n });
    const verdict = await verifyAuditChain(entries);
    expect(verdict).toMatchObject({ ok: false, checked: 3, seq: 3n });
    expect(verdict.ok || verdict.problem).toMatch(/does not follow/);
  });

  it("with a known head hash, fails once that hash is gone (links cut from the end)", async () => {
    const entries = chain([1, 2, 3]);
    const head = entries[2]!.hash;
    expect(await verifyAuditChain(entries, { knownHash: head })).toMatchObject({ ok: true });
    const verdict = await verifyAuditChain(entries.slice(0, 2), { knownHash: head });
    expect(verdict).toMatchObject({ ok: false, checked: 2, seq: 2n });
    expect(verdict.ok || verdict.problem).toMatch(/newest links were deleted/);
  });
});

describe("judgeUnchained", () => {
  const intact = { ok: true as const, checked: 3, lastHash: "h", waiting: 0 };

  it("reports events not reached by the chainer yet as waiting, not as a failure", () => {
    expect(judgeUnchained(intact, { strayedSeq: null, waiting: 2 })).toEqual({ ...intact, waiting: 2 });
  });

  it("names an event below the watermark without a link as inserted", () => {
    const verdict = judgeUnchained(intact, { strayedSeq: 4n, waiting: 1 });
    expect(verdict).toMatchObject({ ok: false, checked: 3, seq: 4n });
    expect(verdict.ok || verdict.problem).toMatch(/event 4 is not in the chain .* inserted afterwards/);
  });

  it("keeps a broken verdict as it is", () => {
    const broken = { ok: false as const, checked: 1, seq: 2n, problem: "x" };
    expect(judgeUnchained(broken, { strayedSeq: 4n, waiting: 0 })).toBe(broken);
  });
});
