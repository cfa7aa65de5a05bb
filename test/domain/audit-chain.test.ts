import { describe, expect, it } from "vitest";
import {
  type AuditContent,
  CHAIN_START,
  canonicalJson,
  computeAuditHash,
  GENESIS_HASH,
  linkEvents,
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

describe("linkEvents", () => {
  const events = [5n, 2n, 9n].map((seq, i) => ({ ...content(i), seq }));

  it("links events in the order given after the tip, each following the one before", () => {
    const links = linkEvents(CHAIN_START, events, 42n);
    expect(links.map((link) => [link.position, link.eventSeq, link.watermark])).toEqual([
      [1n, 5n, 42n],
      [2n, 2n, 42n],
      [3n, 9n, 42n],
    ]);
    expect(links[0]!.prevHash).toBe(GENESIS_HASH);
    for (const [i, link] of links.entries()) {
      expect(link.hash).toBe(computeAuditHash(link.prevHash, events[i]!));
      if (i > 0) expect(link.prevHash).toBe(links[i - 1]!.hash);
    }
  });

  it("continues an existing chain from its tip", () => {
    const first = linkEvents(CHAIN_START, events.slice(0, 2), 7n);
    const tip = first[1]!;
    const [next] = linkEvents(tip, events.slice(2), 8n);
    expect(next).toMatchObject({ position: 3n, prevHash: tip.hash, watermark: 8n });
    expect(next).toEqual(linkEvents(CHAIN_START, events, 8n)[2]);
  });

  it("links nothing when there is nothing to link", () => {
    expect(linkEvents(CHAIN_START, [], 1n)).toEqual([]);
  });
});
