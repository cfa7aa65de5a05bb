import { setTimeout as sleep } from "node:timers/promises";

/**
 * Quick retries inside one connector call, for answers that usually clear within seconds
 * (throttling, a 5xx, a conflicting concurrent change). The job layer retries whole calls on top
 * of this, over minutes, so waits here stay short and their number small.
 */

export interface QuickRetryPolicy {
  /** Retries after the first attempt; 0 = one attempt only. */
  retries: number;
  /** Waits between attempts; tests pass one that records instead of waiting. */
  sleep?: (ms: number) => Promise<void>;
}

/** What to do with a failed attempt: give up (rethrow), or retry after the backoff (or the target's own hint). */
export type RetryAdvice = { retry: false } | { retry: true; afterMs?: number };

const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

export async function withQuickRetries<T>(
  attempt: () => Promise<T>,
  advise: (error: unknown) => RetryAdvice,
  policy: QuickRetryPolicy,
): Promise<T> {
  for (let retriesDone = 0; ; retriesDone += 1) {
    try {
      return await attempt();
    } catch (error) {
      const advice = advise(error);
      if (!advice.retry || retriesDone >= policy.retries) throw error;
      await (policy.sleep ?? sleep)(Math.min(MAX_DELAY_MS, advice.afterMs ?? backoffMs(retriesDone)));
    }
  }
}

/** Exponential, with jitter so that many grants throttled together do not retry in lockstep. */
export function backoffMs(retriesDone: number): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** retriesDone);
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}
