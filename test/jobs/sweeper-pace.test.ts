import { afterEach, describe, expect, it, vi } from "vitest";
import type { ServiceDeps } from "../../src/services/deps.js";

/**
 * How often the install sweeps with several worker processes: once per interval, whichever
 * process holds the lease, and soon after the interval when its holder stops. Fake timers, a lease
 * table in memory on the fake clock, and a sweep that only counts who ran it (no database).
 */

const sweeps: string[] = [];
vi.mock("../../src/services/sweep.js", () => ({
  sweep: async (deps: ServiceDeps) => {
    sweeps.push(deps.instanceId);
    return { errors: 0 };
  },
}));
const { startSweeper } = await import("../../src/jobs/sweeper.js");

const INTERVAL_SECONDS = 30;

function leaseTable(roundTripMs = 0) {
  const leases = new Map<string, { owner: string; expiresAt: number }>();
  return {
    async takeNamedLease(name: string, owner: string, seconds: number) {
      if (roundTripMs > 0) await new Promise((resolve) => setTimeout(resolve, roundTripMs));
      const held = leases.get(name);
      if (held && held.owner !== owner && held.expiresAt > Date.now()) return false;
      leases.set(name, { owner, expiresAt: Date.now() + seconds * 1000 });
      return true;
    },
    async releaseNamedLease(name: string, owner: string) {
      if (leases.get(name)?.owner === owner) leases.delete(name);
    },
  };
}

function workerProcess(instanceId: string, store: ReturnType<typeof leaseTable>) {
  const deps = {
    instanceId,
    now: () => new Date(),
    logger: { info() {}, warn() {}, error() {} },
    store,
  } as unknown as ServiceDeps;
  return startSweeper(deps, INTERVAL_SECONDS);
}

afterEach(() => {
  vi.useRealTimers();
  sweeps.length = 0;
});

describe("sweeper pace across processes", () => {
  it("sweeps once per interval with two processes, and the other takes over within seconds of a stop", async () => {
    vi.useFakeTimers();
    const store = leaseTable();
    const a = workerProcess("a", store);
    await vi.advanceTimersByTimeAsync(1_000);
    const b = workerProcess("b", store);
    await vi.advanceTimersByTimeAsync(0);
    // b started while a's interval ran: a swept as it started, b found the lease held.
    expect(sweeps).toEqual(["a"]);

    await vi.advanceTimersByTimeAsync(3 * INTERVAL_SECONDS * 1000);
    // Three more intervals, three more sweeps in all (each by a, which holds the lease).
    expect(sweeps).toEqual(["a", "a", "a", "a"]);

    await a.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    // a handed the lease on when it stopped: b swept at its next look, not an interval later.
    expect(sweeps).toEqual(["a", "a", "a", "a", "b"]);
    await vi.advanceTimersByTimeAsync(2 * INTERVAL_SECONDS * 1000);
    expect(sweeps.slice(5)).toEqual(["b", "b"]);
    await b.stop();
  });

  it("keeps its pace when taking the lease takes a while (each sweep starts a round trip after its tick)", async () => {
    vi.useFakeTimers();
    const a = workerProcess("a", leaseTable(300));
    await vi.advanceTimersByTimeAsync(3 * INTERVAL_SECONDS * 1000 + 1_000);
    // At 0, 30, 60 and 90 s: not one look period late each time.
    expect(sweeps).toEqual(["a", "a", "a", "a"]);
    await a.stop();
  });

  it("takes over from a holder that died once its interval is over", async () => {
    vi.useFakeTimers();
    const store = leaseTable();
    const a = workerProcess("a", store);
    await vi.advanceTimersByTimeAsync(0);
    const b = workerProcess("b", store);
    // a dies: its timer ends, and its lease stays until its interval is over (a stop would have
    // given it back, so the lease is taken again as a held it).
    await a.stop();
    await store.takeNamedLease("sweeper", "a", INTERVAL_SECONDS);
    await vi.advanceTimersByTimeAsync(INTERVAL_SECONDS * 1000 - 1_000);
    expect(sweeps).toEqual(["a"]);
    await vi.advanceTimersByTimeAsync(6_000);
    expect(sweeps).toEqual(["a", "b"]);
    await b.stop();
  });
});
