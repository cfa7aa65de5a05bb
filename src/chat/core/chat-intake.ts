import type { ChatPlatform } from "./chat-adapter.js";

/**
 * Durable intake of chat actions. A verified Slack command, click or modal submission (or Teams
 * activity) is stored before it is acknowledged, keyed by the platform's own id (unique): a replay
 * is acknowledged and changes nothing. The work then runs from the stored row, in a job carrying
 * only its id, with bounded concurrency and retries; when it fails for good, the person is told.
 */

export interface IntakeEntry {
  platform: ChatPlatform;
  /** What it is (command, action, view, activity): names the job, and tells the processor how to read the payload. */
  kind: string;
  /** The platform's id for this user action (Slack trigger_id or view id, Teams activity id). */
  key: string;
  /** The verified payload, without its response_url (that goes in `replyTo`, sealed at rest). */
  payload: Record<string, unknown>;
  /** Slack's response_url: a bearer capability to answer the person, sealed before it is stored. */
  replyTo?: string;
}

export interface StoredIntake extends IntakeEntry {
  id: string;
}

export interface IntakeAttempt {
  /** No retry follows this attempt: a failure now must be reported to the person. */
  final: boolean;
}

export interface IntakeProcessor {
  /** Does the work. Throw `RetryLater` for a failure worth another attempt (nothing was applied). */
  process(entry: StoredIntake, attempt: IntakeAttempt): Promise<void>;
  /** Tells the person their action failed for good (Slack ephemeral via response_url, Teams message). */
  tellFailed(entry: StoredIntake): Promise<void>;
}

export type Accepted = { id: string; fresh: true } | { fresh: false };

export interface ChatIntake {
  /** Stores the entry and schedules its work; `fresh: false` when the key was already taken (a replay). */
  accept(entry: IntakeEntry): Promise<Accepted>;
  /**
   * Stores the entry, then runs `work` here and now (a few at a time per process, with the same
   * retries), for platforms whose answer goes back in the same HTTP response (Teams). With
   * `recoverable`, a process dying midway leaves the row for the queue's registered processor.
   */
  acceptAndRun(
    entry: IntakeEntry,
    work: (attempt: IntakeAttempt) => Promise<void>,
    options: { recoverable: boolean },
  ): Promise<Accepted>;
  /** Runs a claimed row's work here, now, within the same bound and retries (failure for good: the person is told). */
  runHere(id: string, work: (attempt: IntakeAttempt) => Promise<void>): Promise<void>;
  /** Claims a key without scheduling work (a form checked inline); `release` gives it back. */
  claim(entry: IntakeEntry): Promise<Accepted>;
  release(id: string): Promise<void>;
  finish(id: string): Promise<void>;
  /** The platform's processor; stored work of a platform with none waits for a process that has one. */
  register(platform: ChatPlatform, processor: IntakeProcessor): void;
}

export type RateVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

/** SESAME_RATE_LIMIT in chat: each person's actions per minute, counted across all processes. */
export interface RateLimit {
  perMinute: number;
  hit(key: string): Promise<RateVerdict>;
}

export const tooFast = (limit: RateLimit, verdict: { retryAfterSeconds: number }): string =>
  `You are going faster than Sesame allows (${limit.perMinute} actions a minute per person). Nothing was done; try again in ${verdict.retryAfterSeconds} s.`;

/** A failure that applied nothing (e.g. no database connection free in time): worth another attempt. */
export class RetryLater extends Error {
  constructor(readonly original: unknown) {
    super("a chat action failed before changing anything; it will be retried");
  }
}

export function isRetryLater(error: unknown): boolean {
  if (error instanceof RetryLater) return true;
  const original = (error as { original?: unknown } | null)?.original;
  return original instanceof RetryLater;
}
