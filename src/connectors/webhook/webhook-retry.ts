import { setTimeout as sleep } from "node:timers/promises";
import { type HttpRequest, type HttpResponse, type Transport, TransportError } from "./webhook-transport.js";

/**
 * Quick retries inside one call, for failures that are likely gone in a second: network errors,
 * timeouts, 408, 429 and 5xx. Everything else is the receiver's final word. The job layer retries
 * whole calls on top of this, over minutes, so waits here stay short.
 */

export interface RetryPolicy {
  retries: number;
  timeoutMs: number;
  /** Waits between attempts; tests pass one that records instead of waiting. */
  sleep?: (ms: number) => Promise<void>;
  /** How much of an answer is read; MAX_BODY_BYTES unless a call needs bigger answers. */
  maxBodyBytes?: number;
}

/** What the last attempt got: an HTTP answer (any status) or no answer at all. */
export type Outcome = { response: HttpResponse; attempts: number } | { error: TransportError; attempts: number };

/** Longest Retry-After honoured; a receiver asking for more gets no retry now, the job layer comes back later. */
export const MAX_RETRY_AFTER_SECONDS = 30;
/** Bigger answers are not needed for a receipt, and must not fill Sesame's memory. */
export const MAX_BODY_BYTES = 64 * 1024;
const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

export const isRetryableStatus = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/** `build` runs once per attempt, so every attempt carries a fresh timestamp and signature. */
export async function sendWithRetries(
  transport: Transport,
  build: () => HttpRequest,
  policy: RetryPolicy,
): Promise<Outcome> {
  for (let attempt = 1; ; attempt += 1) {
    let outcome: Outcome;
    try {
      outcome = {
        response: await transport.send(build(), {
          timeoutMs: policy.timeoutMs,
          maxBodyBytes: policy.maxBodyBytes ?? MAX_BODY_BYTES,
        }),
        attempts: attempt,
      };
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      outcome = { error, attempts: attempt };
    }
    const delayMs = retryDelayMs(outcome, attempt - 1);
    if (delayMs === undefined || attempt > policy.retries) return outcome;
    await (policy.sleep ?? sleep)(delayMs);
  }
}

/** How long to wait before the next attempt, or undefined when this outcome is final. */
function retryDelayMs(outcome: Outcome, retriesDone: number): number | undefined {
  // A certificate or protocol mismatch does not heal within seconds.
  if ("error" in outcome) return outcome.error.kind === "tls" ? undefined : backoffMs(retriesDone);
  if (!isRetryableStatus(outcome.response.status)) return undefined;
  const retryAfter = retryAfterSeconds(outcome.response.headers["retry-after"]);
  if (retryAfter === undefined) return backoffMs(retriesDone);
  return retryAfter > MAX_RETRY_AFTER_SECONDS ? undefined : retryAfter * 1000;
}

/** Exponential, with jitter so that many grants failing together do not retry in lockstep. */
function backoffMs(retriesDone: number): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** retriesDone);
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}

/** Retry-After is either delay seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterSeconds(header: string | undefined, now: number = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}
