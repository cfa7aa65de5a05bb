import { describe, expect, it } from "vitest";
import { sharedRead } from "../../src/storage/shared-read.js";

/** A reader whose statements are recorded and answered when the test says so. */
function recordingReader(
  rows: Record<string, { id: string; n: number }>,
  refuse: (id: string) => boolean = () => false,
) {
  const statements: string[][] = [];
  const readMany = async (ids: string[]) => {
    statements.push(ids);
    if (ids.some(refuse)) throw Object.assign(new Error("invalid byte sequence"), { code: "22021" });
    return new Map(ids.flatMap((id) => (rows[id] ? [[id, rows[id]] as const] : [])));
  };
  return { statements, read: sharedRead(readMany) };
}

describe("sharedRead", () => {
  it("answers reads that arrive while others are under way with one statement, each with its own row", async () => {
    const { statements, read } = recordingReader({ a: { id: "a", n: 1 }, b: { id: "b", n: 2 } });
    const answers = await Promise.all(["a", "b", "a", "missing", "b", "a"].map(read));
    expect(answers).toEqual([
      { id: "a", n: 1 },
      { id: "b", n: 2 },
      { id: "a", n: 1 },
      null,
      { id: "b", n: 2 },
      { id: "a", n: 1 },
    ]);
    // Two go at once; the four that arrive meanwhile share the third statement, each id once.
    expect(statements).toEqual([["a"], ["b"], ["a", "missing", "b"]]);
    // Callers of one id get copies: one changing its row changes nobody else's.
    expect(answers[2]).not.toBe(answers[5]);
  });

  it("reads a refused batch again id by id, so only the caller of the bad id gets the error", async () => {
    const { read } = recordingReader({ a: { id: "a", n: 1 }, c: { id: "c", n: 3 } }, (id) => id.includes("\0"));
    const answers = await Promise.allSettled(["x", "y", "a", "bad\0", "c"].map(read));
    expect(answers.map((answer) => answer.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    expect(answers[2]).toEqual({ status: "fulfilled", value: { id: "a", n: 1 } });
    expect(answers[4]).toEqual({ status: "fulfilled", value: { id: "c", n: 3 } });
    expect(answers[3]).toMatchObject({ status: "rejected", reason: { code: "22021" } });
  });

  it("fails the whole batch at once when the database is unavailable, without a read per id", async () => {
    const statements: string[][] = [];
    const read = sharedRead(async (ids: string[]) => {
      statements.push(ids);
      throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    });
    const answers = await Promise.allSettled(["a", "b", "c", "d"].map(read));
    expect(answers.every((answer) => answer.status === "rejected")).toBe(true);
    expect(statements).toEqual([["a"], ["b"], ["c", "d"]]);
  });
});
