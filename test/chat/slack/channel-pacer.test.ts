import { Redis } from "ioredis";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createChannelPacer, paceKey, reserveSlot, type SharedPace } from "../../../src/chat/slack/channel-pacer.js";
import { TEST_REDIS_URL, testRedisPrefix } from "../../helpers/database.js";

/**
 * Slack's ~1 message/s/channel holds for every Sesame process together: two pacers (two
 * processes, two Redis connections) sharing one prefix take turns on a channel's slots. Checked on
 * the slots Redis hands out, never on how long anything took.
 */

const prefix = testRedisPrefix("pacer");
const connections: Redis[] = [];
const shared = (): SharedPace => {
  const connection = new Redis(TEST_REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  connections.push(connection);
  return { connection, prefix };
};
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

afterAll(async () => {
  const keys = await connections[0]!.keys(`${prefix}:*`);
  if (keys.length > 0) await connections[0]!.del(...keys);
  for (const connection of connections) connection.disconnect();
});

async function ready(pace: SharedPace): Promise<SharedPace> {
  if (pace.connection.status !== "ready") await new Promise((resolve) => pace.connection.once("ready", resolve));
  return pace;
}

describe("pacing shared across processes", () => {
  it("hands two processes alternating on one channel slots at least a second apart, another channel at once", async () => {
    const [first, second] = [await ready(shared()), await ready(shared())];
    const slots: number[] = [];
    for (let index = 0; index < 10; index += 1)
      slots.push((await reserveSlot(index % 2 === 0 ? first : second, "T1/C0BURST", 1_000)).slot);
    for (let index = 1; index < slots.length; index += 1)
      expect(slots[index]! - slots[index - 1]!).toBeGreaterThanOrEqual(1_000);
    // A channel nobody used has its slot now: no wait.
    const other = await reserveSlot(second, "T1/C0OTHER", 1_000);
    expect(other.slot).toBe(other.now);
    // The reservation expires with its interval: Redis keeps nothing per channel for long.
    expect(await first.connection.pttl(paceKey(prefix, "T1/C0OTHER"))).toBeLessThanOrEqual(1_000);
  });

  it("makes each process wait for its own slot, in the order the slots were handed out", async () => {
    const waits: number[] = [];
    const record = async (ms: number) => void waits.push(ms);
    const pacers = [shared(), shared()].map((pace) =>
      // A minute apart: however slow this machine is, the next slot is still ahead when it is reserved.
      createChannelPacer({ intervalMs: 60_000, shared: pace, logger: silent, wait: record }),
    );
    await Promise.all(connections.map((c) => (c.status === "ready" ? undefined : ready({ connection: c, prefix }))));
    const ran: string[] = [];
    for (let index = 0; index < 4; index += 1)
      await pacers[index % 2]!.schedule("T1/C0TURNS", async () => void ran.push(`message ${index}`));
    expect(ran).toEqual(["message 0", "message 1", "message 2", "message 3"]);
    // The first goes at once; each later one waited for a slot the other process had not taken.
    expect(waits).toHaveLength(3);
    for (const ms of waits) expect(ms).toBeGreaterThan(0);
    for (const pacer of pacers) await pacer.stop();
  });

  it("paces this process alone when Redis cannot answer, and still sends", async () => {
    // A connection that never connects: every command fails at once, as with Redis down.
    const down = new Redis("redis://127.0.0.1:1", {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    down.on("error", () => undefined);
    const warnings: string[] = [];
    const pacer = createChannelPacer({
      intervalMs: 1_000,
      shared: { connection: down, prefix },
      logger: { ...silent, warn: (_o: Record<string, unknown>, message: string) => void warnings.push(message) },
    });
    vi.useFakeTimers({ now: new Date("2026-03-02T08:00:00Z") });
    try {
      const sent: number[] = [];
      const both = Promise.all([1, 2].map(() => pacer.schedule("T1/C0DOWN", async () => void sent.push(Date.now()))));
      await vi.advanceTimersByTimeAsync(100);
      expect(sent).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1_000);
      await both;
      expect(sent).toHaveLength(2);
      expect(sent[1]! - sent[0]!).toBeGreaterThanOrEqual(995);
      expect(warnings).toEqual(["Slack pacing falls back to this process alone while Redis cannot answer"]);
    } finally {
      vi.useRealTimers();
      await pacer.stop();
      down.disconnect();
    }
  });
});
