import { retryAfterSeconds } from "../connectors/webhook/webhook-retry.js";

/**
 * Retries for pages: network errors, timeouts, 429 and 5xx are likely gone in a moment; anything
 * else (400 and friends) is the provider's final word. All attempts and waits fit in `budgetMs`,
 * so a caller paging during an escalation is never held up for long.
 */

export interface ProviderAnswer {
  status: number;
  statusText: string;
  retryAfter: string | undefined;
  text: string;
}

/** An HTTP answer (any status), or why there was none. */
export type Attempt = { answer: ProviderAnswer } | { failure: string };

export interface RetryPolicy {
  attempts: number;
  /** Longest single attempt. */
  timeoutMs: number;
  /** Longest time for all attempts and the waits between them. */
  budgetMs: number;
  sleep: (ms: number) => Promise<void>;
}

const BASE_DELAY_MS = 250;

export async function withRetries(
  send: (timeoutMs: number) => Promise<Attempt>,
  policy: RetryPolicy,
): Promise<Attempt> {
  const deadline = Date.now() + policy.budgetMs;
  for (let attempt = 1; ; attempt += 1) {
    const outcome = await send(Math.max(1, Math.min(policy.timeoutMs, deadline - Date.now())));
    const delayMs = retryDelayMs(outcome, attempt);
    // A Retry-After beyond the budget ends the call now: its answer (429) says why.
    if (delayMs === undefined || attempt >= policy.attempts || Date.now() + delayMs >= deadline) return outcome;
    await policy.sleep(delayMs);
  }
}

function retryDelayMs(outcome: Attempt, attempt: number): number | undefined {
  if ("failure" in outcome) return backoffMs(attempt);
  const { status, retryAfter } = outcome.answer;
  if (status !== 429 && status < 500) return undefined;
  const seconds = retryAfterSeconds(retryAfter);
  return seconds === undefined ? backoffMs(attempt) : seconds * 1000;
}

/** 250 ms, 500 ms, …, with jitter so that many pages failing together do not retry in lockstep. */
function backoffMs(attempt: number): number {
  const ceiling = BASE_DELAY_MS * 2 ** (attempt - 1);
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}
