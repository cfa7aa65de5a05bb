import { percentile } from "./stats.js";

/** How late something happened after it was due, in milliseconds. */
export interface Lateness {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export function lateness(values: readonly number[]): Lateness {
  return {
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length === 0 ? Number.NaN : values.reduce((a, b) => Math.max(a, b), -Infinity),
    count: values.length,
  };
}
