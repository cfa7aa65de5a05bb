import { describe, expect, it } from "vitest";
import { batchWhileBusy } from "../../src/jobs/batch-while-busy.js";

/** Calls made while earlier batches are under way share one call of `run`; alone, one starts at once. */

function gatedRun() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const run = async (items: number[]) => {
    batches.push(items);
    await new Promise<void>((resolve) => gates.push(resolve));
    return items.map((item) => item * 10);
  };
  return { batches, gates, run };
}

describe("batchWhileBusy", () => {
  it("starts a lone call at once, then groups what arrives while the batches in flight are busy", async () => {
    const { batches, gates, run } = gatedRun();
    const call = batchWhileBusy(run, { maxBatch: 3, atOnce: 1 });
    const first = call(1);
    await Promise.resolve(); // a microtask, no timer
    expect(batches).toEqual([[1]]);
    const rest = [2, 3, 4, 5].map(call);
    await Promise.resolve();
    expect(batches).toEqual([[1]]);
    gates.shift()!();
    expect(await first).toBe(10);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1], [2, 3, 4]]);
    gates.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
    gates.shift()!();
    expect(await Promise.all(rest)).toEqual([20, 30, 40, 50]);
  });

  it("rejects only the callers of a failed batch, and a batch answered with the wrong count", async () => {
    let calls = 0;
    const call = batchWhileBusy(
      async (items: string[]) => {
        calls += 1;
        if (items.includes("boom")) throw new Error("database went away");
        if (items.includes("short")) return [];
        return items.map((item) => item.toUpperCase());
      },
      { maxBatch: 10, atOnce: 1 },
    );
    await expect(call("boom")).rejects.toThrow("database went away");
    await expect(call("short")).rejects.toThrow("a batch of 1 got 0 answers");
    expect(await call("fine")).toBe("FINE");
    expect(calls).toBe(3);
  });

  it("answers every caller of a batch whose run throws before returning a promise", async () => {
    let first = true;
    const call = batchWhileBusy(
      (items: number[]): Promise<number[]> => {
        if (first) {
          first = false;
          return new Promise((resolve) => setImmediate(() => resolve(items)));
        }
        throw new Error("thrown at once");
      },
      { maxBatch: 10, atOnce: 1 },
    );
    const outcomes = await Promise.allSettled([call(1), call(2), call(3)]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "rejected"]);
    await expect(call(4)).rejects.toThrow("thrown at once");
  });

  it("runs a failed batch again item by item when retryAloneWhen accepts the error, and only then", async () => {
    const runs: number[][] = [];
    const call = (retryAlone: boolean) =>
      batchWhileBusy(
        async (items: number[]) => {
          runs.push(items);
          if (items.includes(13)) throw new Error(`refused ${items.length}`);
          return items.map((item) => item * 2);
        },
        { maxBatch: 10, atOnce: 1, retryAloneWhen: () => retryAlone },
      );
    const alone = call(true);
    const retried = await Promise.allSettled([alone(1), alone(2), alone(13), alone(4)]);
    expect(retried.map((outcome) => (outcome.status === "fulfilled" ? outcome.value : "refused"))).toEqual([
      2,
      4,
      "refused",
      8,
    ]);
    expect(runs).toEqual([[1], [2, 13, 4], [2], [13], [4]]);

    runs.length = 0;
    const together = call(false);
    const failed = await Promise.allSettled([together(1), together(2), together(13)]);
    expect(failed.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "rejected"]);
    expect(runs).toEqual([[1], [2, 13]]);
  });
});
