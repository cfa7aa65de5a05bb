import { describe, expect, it } from "vitest";
import {
  type AuditContent,
  type ChainedAuditRow,
  canonicalJson,
  computeAuditHash,
  GENESIS_HASH,
  verifyAuditChain,
} from "../../src/domain/audit-chain.js";

const T0 = Date.parse("2026-03-01T12:00:00.000Z");

function content(i: number): AuditContent {
  return {
    at: new Date(T0 + i * 1000),
    type: i % 2 ? "request.approved" : "request.submitted",
    actorId: `user-${i}`,
    requestId: `req-${i}`,
    grantId: i % 3 ? null : `grant-${i}`,
    data: { index: i, reason: `reason ${i}`, nested: { list: [i, i + 1] } },
  };
}

/** Builds a correctly chained log with the given (possibly gapped) sequence numbers. */
function chain(seqs: number[]): ChainedAuditRow[] {
  let prevHash = GENESIS_HASH;
  return seqs.map((seq, i) => {
    const c = content(i);
    const row = { ...c, seq: BigInt(seq), prevHash, hash: computeAuditHash(prevHash, c) };
    prevHash = row.hash;
    return row;
  });
}

async function* streamed<T>(rows: T[]): AsyncGenerator<T> {
  for (const row of rows) yield row;
}

describe("canonicalJson", () => {
  it("does not depend on key order, at any depth", () => {
    const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: "s" } };
    const b = { a: { x: "s", y: [1, { p: 2, q: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":"s","y":[1,{"p":2,"q":1}]},"b":1}');
  });

  it("keeps array order, since order in an array is meaning", () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it("writes Dates as ISO strings, top-level and nested", () => {
    const at = new Date("2026-03-01T12:00:00.000Z");
    expect(canonicalJson(at)).toBe('"2026-03-01T12:00:00.000Z"');
    expect(canonicalJson({ when: { at } })).toBe('{"when":{"at":"2026-03-01T12:00:00.000Z"}}');
  });

  it("drops undefined properties and writes null and primitives as JSON does", () => {
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
    expect(canonicalJson(undefined)).toBe("null");
    expect(canonicalJson('x"y')).toBe('"x\\"y"');
    expect(canonicalJson(true)).toBe("true");
  });
});

describe("computeAuditHash", () => {
  const base = content(1);

  it("is a deterministic sha256 hex digest that ignores key order in data", () => {
    const hash = computeAuditHash(GENESIS_HASH, base);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(computeAuditHash(GENESIS_HASH, { ...base, at: new Date(base.at) })).toBe(hash);
    const reordered = { nested: { list: [1, 2] }, reason: "reason 1", index: 1 };
    expect(computeAuditHash(GENESIS_HASH, { ...base, data: reordered })).toBe(hash);
  });

  const changes: { field: string; changed: AuditContent }[] = [
    { field: "at", changed: { ...base, at: new Date(base.at.getTime() + 1) } },
    { field: "type", changed: { ...base, type: "request.denied" } },
    { field: "actorId", changed: { ...base, actorId: "user-9" } },
    { field: "actorId (to null)", changed: { ...base, actorId: null } },
    { field: "requestId", changed: { ...base, requestId: "req-9" } },
    { field: "grantId", changed: { ...base, grantId: "grant-9" } },
    { field: "data (a value)", changed: { ...base, data: { index: 1, reason: "reason 2", nested: { list: [1, 2] } } } },
    {
      field: "data (a nested value)",
      changed: { ...base, data: { index: 1, reason: "reason 1", nested: { list: [2, 1] } } },
    },
    {
      field: "data (an added key)",
      changed: { ...base, data: { index: 1, reason: "reason 1", nested: { list: [1, 2] }, extra: true } },
    },
  ];

  it.each(changes)("changes when $field changes", ({ changed }) => {
    expect(computeAuditHash(GENESIS_HASH, changed)).not.toBe(computeAuditHash(GENESIS_HASH, base));
  });

  it("changes when prevHash changes", () => {
    expect(computeAuditHash("1".repeat(64), base)).not.toBe(computeAuditHash(GENESIS_HASH, base));
  });

  it("does not let a value move between id fields unnoticed", () => {
    const swapped = { ...base, actorId: base.requestId, requestId: base.actorId };
    expect(computeAuditHash(GENESIS_HASH, swapped)).not.toBe(computeAuditHash(GENESIS_HASH, base));
  });
});

describe("verifyAuditChain", () => {
  it("accepts an empty log, ending at the genesis hash", async () => {
    expect(await verifyAuditChain([])).toEqual({ ok: true, checked: 0, lastHash: GENESIS_HASH });
  });

  it("accepts a good chain with sequence gaps, from an array or an async stream, and returns the last hash", async () => {
    const rows = chain([1, 2, 5, 6, 10]);
    const expected = { ok: true, checked: 5, lastHash: rows[4]!.hash };
    expect(await verifyAuditChain(rows)).toEqual(expected);
    expect(await verifyAuditChain(streamed(rows))).toEqual(expected);
  });

  it("detects an edited row and names it", async () => {
    const rows = chain([1, 2, 3, 4]);
    rows[2] = { ...rows[2]!, data: { index: 2, reason: "approved by the CEO" } };
    const verdict = await verifyAuditChain(rows);
    expect(verdict).toMatchObject({ ok: false, checked: 2, seq: 3n });
    expect(verdict.ok || verdict.problem).toMatch(/row 3 was edited/);
  });

  it.each(["at", "type", "actorId", "requestId", "grantId"] as const)("detects an edit of %s alone", async (field) => {
    const rows = chain([1, 2, 3]);
    const row = rows[1]!;
    rows[1] = field === "at" ? { ...row, at: new Date(row.at.getTime() + 1) } : { ...row, [field]: "forged" };
    expect(await verifyAuditChain(rows)).toMatchObject({ ok: false, seq: 2n });
  });

  it("detects a deleted middle row at the row after it", async () => {
    const rows = chain([1, 2, 3, 4]);
    rows.splice(1, 1);
    const verdict = await verifyAuditChain(rows);
    expect(verdict).toMatchObject({ ok: false, checked: 1, seq: 3n });
    expect(verdict.ok || verdict.problem).toMatch(/does not follow/);
  });

  it("detects a deleted first row", async () => {
    expect(await verifyAuditChain(chain([1, 2, 3]).slice(1))).toMatchObject({ ok: false, checked: 0, seq: 2n });
  });

  it("detects a reordered pair whose contents were swapped under the original seq numbers", async () => {
    const rows = chain([1, 2, 3, 4]);
    const [second, third] = [rows[1]!, rows[2]!];
    rows[1] = { ...third, seq: second.seq };
    rows[2] = { ...second, seq: third.seq };
    expect(await verifyAuditChain(rows)).toMatchObject({ ok: false, checked: 1, seq: 2n });
  });

  it("detects a reordered pair delivered out of seq order", async () => {
    const rows = chain([1, 2, 3, 4]);
    [rows[1], rows[2]] = [rows[2]!, rows[1]!];
    const verdict = await verifyAuditChain(rows);
    expect(verdict).toMatchObject({ ok: false, seq: 3n });
  });

  it("detects a row inserted in a seq gap with a self-consistent forged hash, at the row after it", async () => {
    const rows = chain([1, 2, 5, 6]);
    const forgedContent: AuditContent = { ...content(9), type: "grant.revoked" };
    const forged = {
      ...forgedContent,
      seq: 3n,
      prevHash: rows[1]!.hash,
      hash: computeAuditHash(rows[1]!.hash, forgedContent),
    };
    rows.splice(2, 0, forged);
    const verdict = await verifyAuditChain(rows);
    // The forged row itself links and hashes correctly; the original next row no longer follows it.
    expect(verdict).toMatchObject({ ok: false, checked: 3, seq: 5n });
    expect(verdict.ok || verdict.problem).toMatch(/does not follow/);
  });

  it("detects an inserted row whose hash is made up", async () => {
    const rows = chain([1, 2, 5]);
    rows.splice(2, 0, { ...content(9), seq: 3n, prevHash: rows[1]!.hash, hash: "f".repeat(64) });
    expect(await verifyAuditChain(rows)).toMatchObject({ ok: false, checked: 2, seq: 3n });
  });
});
