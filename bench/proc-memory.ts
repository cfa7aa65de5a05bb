import { readFileSync } from "node:fs";

/** Resident set size of a process in bytes (VmRSS in /proc/<pid>/status); NaN once it has gone. */
export function rssBytes(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib === undefined ? Number.NaN : Number(kib) * 1024;
  } catch {
    return Number.NaN;
  }
}

export interface RssSampler {
  /** Stops sampling; the lowest, the highest and the last reading. */
  stop(): { low: number; peak: number; last: number };
}

/**
 * Reads a process's RSS every `intervalMs`, keeping the lowest and highest: what a burst costs
 * shows in the peak, and a garbage-collected heap swings between the two (a sweep over many
 * grants makes short-lived garbage), so one reading alone says little.
 */
export function sampleRss(pid: () => number, intervalMs: number): RssSampler {
  let low = Number.POSITIVE_INFINITY;
  let peak = 0;
  let last = Number.NaN;
  const read = () => {
    last = rssBytes(pid());
    if (last > peak) peak = last;
    if (last < low) low = last;
  };
  read();
  const timer = setInterval(read, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      read();
      return { low, peak, last };
    },
  };
}
