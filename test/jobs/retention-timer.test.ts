import { afterEach, describe, expect, it, vi } from "vitest";
import { RETENTION_INTERVAL_MS, startRetentionTimer } from "../../src/jobs/retention-timer.js";
import type { ServiceDeps } from "../../src/services/deps.js";
import { PURGE_BATCH } from "../../src/services/purge-ended-records.js";

/** The hourly purge's scheduling and lease, with a store that counts what it is asked (no database). */

function fakeDeps(options: { leaseFree: () => boolean; backlog: number }) {
  let backlog = options.backlog;
  const calls = { purgeBatches: 0, released: 0, audits: 0, leaseSeconds: [] as number[] };
  const uow = {
    deleteEndedRecords: async (_before: Date, limit: number) => {
      calls.purgeBatches += 1;
      const deleted = Math.min(limit, backlog);
      backlog -= deleted;
      return deleted;
    },
    deleteChatDeliveryClaims: async () => 0,
    deleteFinishedInboundEvents: async () => 0,
    appendAudit: async () => {
      calls.audits += 1;
    },
  };
  const deps = {
    instanceId: "worker-a",
    now: () => new Date("2026-12-07T10:00:00Z"),
    logger: { info() {}, warn() {}, error() {} },
    store: {
      takeNamedLease: async (_name: string, _owner: string, seconds: number) => {
        calls.leaseSeconds.push(seconds);
        return options.leaseFree();
      },
      releaseNamedLease: async () => {
        calls.released += 1;
      },
      transaction: async <T>(work: (u: typeof uow) => Promise<T>) => work(uow),
    },
  } as unknown as ServiceDeps;
  return { deps, calls };
}

afterEach(() => void vi.useRealTimers());

describe("retention timer", () => {
  it("purges at start and then every hour, in batches, under its lease", async () => {
    vi.useFakeTimers();
    const { deps, calls } = fakeDeps({ leaseFree: () => true, backlog: PURGE_BATCH + 5 });
    const timer = startRetentionTimer(deps, 30 * 86_400);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.purgeBatches).toBe(2);
    expect(calls.audits).toBe(2);
    // Kept for the rest of the hour (no time passed on the fake clock), so the other processes skip it.
    expect(calls.leaseSeconds.at(-1)).toBe(RETENTION_INTERVAL_MS / 1000);
    expect(calls.released).toBe(0);
    await vi.advanceTimersByTimeAsync(RETENTION_INTERVAL_MS);
    expect(calls.purgeBatches).toBe(3);
    await timer.stop();
    // Handed on when the process stops.
    expect(calls.released).toBe(1);
  });

  it("does nothing while another process holds the lease, and joins a purge already under way", async () => {
    const held = fakeDeps({ leaseFree: () => false, backlog: 10 });
    const idle = startRetentionTimer(held.deps, 30 * 86_400);
    expect(await idle.runOnce()).toBeUndefined();
    expect(held.calls.purgeBatches).toBe(0);
    await idle.stop();

    const free = fakeDeps({ leaseFree: () => true, backlog: 3 });
    const timer = startRetentionTimer(free.deps, 30 * 86_400);
    const [first, second] = [timer.runOnce(), timer.runOnce()];
    expect(first).toBe(second);
    await timer.stop();
  });

  it("stops between batches when the lease is lost", async () => {
    let takes = 0;
    const { deps, calls } = fakeDeps({
      leaseFree: () => {
        takes += 1;
        return takes === 1;
      },
      backlog: 3 * PURGE_BATCH,
    });
    const timer = startRetentionTimer(deps, 30 * 86_400);
    expect(await timer.runOnce()).toBeUndefined();
    expect(calls.purgeBatches).toBe(1);
    await timer.stop();
  });
});
