import { createHash } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { signedHeaders } from "../connectors/webhook/webhook-signature.js";
import { chainedLine, toJson } from "../domain/audit-export-line.js";
import type { Logger, Store } from "../services/ports.js";
import { advanceDeliveryCursor, readDeliveryCursor } from "../storage/audit-delivery-cursor.js";
import { readChainPage } from "../storage/audit-repository.js";
import type { Database } from "../storage/prisma-client.js";

/**
 * Streams the audit log to a receiver (a SIEM, a log collector): every chained event, in chain
 * order, at least once. The position delivered is kept in PostgreSQL (AuditDeliveryCursor), so a
 * restart, a crash or another worker taking over resumes right after the last batch the receiver
 * acknowledged; a batch answered with anything but 2xx is sent again, whole, after a backoff.
 * One process delivers at a time (a named lease, like the sweeper), so the order holds.
 */
export interface AuditWebhook {
  /** Seconds the oldest event not yet delivered has waited since it happened (0 when caught up; undefined before the first look). */
  lagSeconds(): number | undefined;
  stop(): Promise<void>;
}

export interface AuditWebhookOptions {
  url: string;
  secret: string;
  db: Database;
  store: Pick<Store, "takeNamedLease" | "releaseNamedLease">;
  instanceId: string;
  logger: Logger;
  now: () => Date;
  /** Events per POST. */
  batchSize?: number;
  /** How often to look for new events once caught up. */
  idleMs?: number;
  /** Waits between failed deliveries: doubles from the first up to the last. */
  backoffMs?: { first: number; max: number };
  timeoutMs?: number;
}

const LEASE_NAME = "audit-webhook";
const LEASE_SECONDS = 60;

export function startAuditWebhook(options: AuditWebhookOptions): AuditWebhook {
  const { db, logger, now } = options;
  const batchSize = options.batchSize ?? 100;
  const idleMs = options.idleMs ?? 1000;
  const backoff = options.backoffMs ?? { first: 1000, max: 60_000 };
  const timeoutMs = options.timeoutMs ?? 10_000;
  // Logged without path or query: a collector's URL may carry a token.
  const receiver = new URL(options.url).origin;
  const sink = deliveryCursorKey(options.url);
  const stopping = new AbortController();
  let lag: number | undefined;
  let failures = 0;

  const post = async (body: string, first: bigint, last: bigint): Promise<void> => {
    const response = await fetch(options.url, {
      method: "POST",
      headers: {
        ...signedHeaders(options.secret, "audit.events", body, now().getTime()),
        "Content-Type": "application/json",
        "Idempotency-Key": `audit-${first}-${last}`,
      },
      body,
      // A redirect answered to a POST would be followed as a GET and its 200 taken for delivery.
      redirect: "manual",
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), stopping.signal]),
    });
    await response.body?.cancel();
    if (response.status >= 300 && response.status < 400)
      throw new DeliveryError(
        `the receiver answered HTTP ${response.status} (a redirect): Sesame does not follow redirects, set SESAME_AUDIT_WEBHOOK_URL to the address it points to`,
      );
    if (!response.ok) throw new DeliveryError(`the receiver answered HTTP ${response.status}`);
  };

  /** Delivers one batch; false when there was nothing to deliver or this process is not the deliverer. */
  const deliverBatch = async (): Promise<boolean> => {
    if (!(await options.store.takeNamedLease(LEASE_NAME, options.instanceId, LEASE_SECONDS))) {
      lag = undefined; // another process delivers, and reports the lag
      return false;
    }
    const after = await readDeliveryCursor(db, sink);
    const page = await readChainPage(db, after, batchSize);
    const oldest = page.find((entry) => entry.event !== null)?.event;
    lag = oldest ? Math.max(0, (now().getTime() - oldest.at.getTime()) / 1000) : 0;
    if (page.length === 0) return false;
    const first = page[0]!.position;
    const last = page[page.length - 1]!.position;
    // Renewed right before sending: a process that stalled since the first take must not send
    // beside the one that took over.
    if (!(await options.store.takeNamedLease(LEASE_NAME, options.instanceId, LEASE_SECONDS))) return false;
    await post(toJson({ events: page.map(chainedLine) }), first, last);
    await advanceDeliveryCursor(db, sink, last, now());
    if (failures > 0) logger.info({ receiver, failures }, "audit webhook delivers again");
    failures = 0;
    return page.length === batchSize;
  };

  const run = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      let wait = idleMs;
      try {
        if (await deliverBatch()) continue;
      } catch (error) {
        if (stopping.signal.aborted) break;
        failures += 1;
        // One line per outage, then quiet retries: a receiver down for an hour must not flood the log.
        if (failures === 1)
          logger.warn(
            { receiver, error: failureReason(error) },
            "audit webhook delivery failed; retrying with backoff until the receiver takes it (nothing is skipped)",
          );
        const exponential = Math.min(backoff.max, backoff.first * 2 ** Math.min(failures - 1, 20));
        wait = exponential / 2 + Math.random() * (exponential / 2);
      }
      await delay(wait, undefined, { signal: stopping.signal }).catch(() => {});
    }
  };
  const running = run();

  return {
    lagSeconds: () => lag,
    async stop() {
      stopping.abort();
      await running;
      await options.store.releaseNamedLease(LEASE_NAME, options.instanceId).catch(() => undefined);
    },
  };
}

/** A failure the receiver caused, described by Sesame: safe to log as it is. */
class DeliveryError extends Error {}

/**
 * What went wrong, without the raw message of a network error: fetch's messages can quote the URL,
 * and a collector's URL may carry a token.
 */
function failureReason(error: unknown): string {
  if (error instanceof DeliveryError) return error.message;
  if (error instanceof Error && error.name === "TimeoutError") return "the receiver did not answer in time";
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === "string") return `cannot reach the receiver (${cause.code})`;
  return `${error instanceof Error ? error.name : "unknown error"} while sending`;
}

/**
 * The delivery position belongs to one receiver: pointing SESAME_AUDIT_WEBHOOK_URL at another host
 * or path starts over from the first event (receivers de-duplicate by the event's id), while a
 * changed query string (a rotated token) keeps the position.
 */
export function deliveryCursorKey(url: string): string {
  const { origin, pathname } = new URL(url);
  return `webhook:${createHash("sha256").update(`${origin}${pathname}`).digest("hex").slice(0, 32)}`;
}
