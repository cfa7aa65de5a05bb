import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startAuditChainTimer } from "../../src/jobs/audit-chain-timer.js";

/** The chainer's timer, on fake timers: each tick is one interval, no wall clock involved. */

function recordingLogger() {
  return { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("startAuditChainTimer", () => {
  it("chains at start and then once per interval", async () => {
    const chain = vi.fn(async () => 0);
    const timer = startAuditChainTimer(chain, recordingLogger(), 1);
    expect(chain).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(chain).toHaveBeenCalledTimes(4);
    await timer.stop();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(chain).toHaveBeenCalledTimes(4);
  });

  it("never starts a pass while the previous one is still running", async () => {
    let release!: () => void;
    const chain = vi.fn(() => new Promise<number>((resolve) => (release = () => resolve(0))));
    const timer = startAuditChainTimer(chain, recordingLogger(), 1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(chain).toHaveBeenCalledTimes(1);
    release();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(chain).toHaveBeenCalledTimes(2);
    release();
    await timer.stop();
  });

  it("logs a failure once per outage, says when it works again, and keeps running", async () => {
    const outcomes = [false, false, false, true, true, false, true];
    const chain = vi.fn(async () => {
      if (!outcomes.shift()) throw new Error("connection refused");
      return 0;
    });
    const logger = recordingLogger();
    const timer = startAuditChainTimer(chain, logger, 1);
    await vi.advanceTimersByTimeAsync(6_000);
    expect(chain).toHaveBeenCalledTimes(7);
    expect(logger.error).toHaveBeenCalledTimes(2);
    expect(logger.error).toHaveBeenCalledWith(
      { error: "connection refused" },
      expect.stringContaining("audit chaining failed"),
    );
    expect(logger.info).toHaveBeenCalledTimes(2);
    await timer.stop();
  });
});
