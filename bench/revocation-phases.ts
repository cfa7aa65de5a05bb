import { type BenchDatabase, withClient } from "./bench-database.js";
import type { GrantLoader } from "./grant-loader.js";
import { type Lateness, lateness } from "./lateness.js";
import { sleep } from "./wait.js";

/**
 * The revocation bench's phases: a steady stream of grants expiring at a chosen rate, and a burst
 * expiring within one second. Outcomes are read from Sesame's database: a grant's revoke is done
 * when its row says revoked, at `revokedAt` (stamped right after the connector's revoke returned),
 * and its lateness is revokedAt − expiresAt.
 */

export interface PhaseOutcome {
  lateness: Lateness;
  /** Grants of the phase that expired but were not revoked when the bench stopped waiting. */
  notRevoked: number;
  /** Grants the loader could not create (only while the bench breaks things on purpose). */
  notCreated: number;
  /** expiresAt of the phase's first and last grant: how tightly they fell due. */
  expirySpreadMs: number;
  /** From the first expiry to the last revoke. */
  doneAfterMs: number;
  /**
   * Distinct revokedAt stamps: Sesame records a batch of revokes with one stamp, so this counts
   * its batches (grants / batches = mean batch size).
   */
  batches: number;
}

/** Grants loaded at once; a few batches run side by side so loading is not one round trip at a time. */
const BATCH = 250;
const LOADERS = 4;

interface Window {
  from: Date;
  to: Date;
}

/** Lateness of the grants that expired in [from, to), and how many of them are not revoked. */
export async function outcomeBetween(database: BenchDatabase, window: Window, notCreated = 0): Promise<PhaseOutcome> {
  return withClient(database.url, async (client) => {
    const { rows } = await client.query<{ status: string; late: number | null; expires: Date; revoked: Date | null }>(
      `SELECT status::text AS status, "expiresAt" AS expires, "revokedAt" AS revoked,
              (EXTRACT(EPOCH FROM ("revokedAt" - "expiresAt")) * 1000)::float8 AS late
       FROM "Grant" WHERE "expiresAt" >= $1 AND "expiresAt" < $2`,
      [window.from, window.to],
    );
    const revoked = rows.filter((row) => row.status === "revoked" && row.late !== null);
    const expiries = rows.map((row) => row.expires.getTime());
    const revokes = revoked.map((row) => row.revoked!.getTime());
    // Loops rather than Math.max(...): a phase can hold more values than a call takes arguments.
    const first = expiries.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
    const lastExpiry = expiries.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
    const lastRevoke = revokes.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY);
    return {
      lateness: lateness(revoked.map((row) => row.late!)),
      notRevoked: rows.length - revoked.length,
      notCreated,
      expirySpreadMs: rows.length === 0 ? Number.NaN : lastExpiry - first,
      doneAfterMs: revoked.length === 0 ? Number.NaN : lastRevoke - first,
      batches: new Set(revokes).size,
    };
  });
}

/** Waits until every grant that expired in the window is revoked (or the deadline passes). */
export async function waitUntilRevoked(database: BenchDatabase, window: Window, deadline: number): Promise<void> {
  await withClient(database.url, async (client) => {
    while (Date.now() < deadline) {
      const { rows } = await client.query<{ left: number }>(
        `SELECT count(*)::int AS left FROM "Grant" WHERE "expiresAt" >= $1 AND "expiresAt" < $2 AND status <> 'revoked'`,
        [window.from, window.to],
      );
      if (rows[0]!.left === 0) return;
      await sleep(250);
    }
  });
}

/** Loads `count` grants, LOADERS batches at a time; `duration` is asked per batch (it may depend on the time). */
export async function loadGrants(
  loader: GrantLoader,
  count: number,
  duration: () => number | undefined,
  onError: (error: unknown, lost: number) => void,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const size = Math.min(BATCH, count - next);
      next += size;
      const seconds = duration();
      if (seconds === undefined) {
        onError(new Error("out of time"), size);
        continue;
      }
      await loader.load(size, seconds).catch((error: unknown) => onError(error, size));
    }
  };
  await Promise.all(Array.from({ length: LOADERS }, lane));
}

/**
 * Grants created at `rate` per second for `windowSeconds`, each lasting `durationSeconds`: they
 * expire at the same rate, `durationSeconds` later, while new ones keep arriving. Returns the
 * window their expiries fall in and how many could not be created.
 */
export async function streamGrants(
  loader: GrantLoader,
  options: { rate: number; windowSeconds: number; durationSeconds: number },
): Promise<{ window: Window; notCreated: number }> {
  const ticksPerSecond = 10;
  const start = Date.now();
  let notCreated = 0;
  let owed = 0;
  const inFlight = new Set<Promise<void>>();
  for (let tick = 0; tick < options.windowSeconds * ticksPerSecond; tick += 1) {
    await sleep(Math.max(0, start + (tick * 1000) / ticksPerSecond - Date.now()));
    owed += options.rate / ticksPerSecond;
    const count = Math.floor(owed);
    owed -= count;
    if (count === 0) continue;
    const loading: Promise<void> = loader
      .load(count, options.durationSeconds)
      .then(() => undefined)
      .catch(() => {
        notCreated += count;
      })
      .finally(() => inFlight.delete(loading));
    inFlight.add(loading);
  }
  await Promise.all(inFlight);
  const from = new Date(start + options.durationSeconds * 1000);
  return { window: { from, to: new Date(Date.now() + options.durationSeconds * 1000 + 1_000) }, notCreated };
}

/**
 * `count` grants expiring within one second, `leadMs` from now: each batch lasts the whole
 * seconds from its activation to that second, so it expires in [second, second + 1 s). Batches
 * that could not be loaded before the second began are counted, not loaded.
 */
export async function burstGrants(
  loader: GrantLoader,
  count: number,
  leadMs: number,
): Promise<{ window: Window; notCreated: number }> {
  const second = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
  let notCreated = 0;
  await loadGrants(
    loader,
    count,
    () => (Date.now() < second - 1_000 ? Math.ceil((second - Date.now()) / 1000) : undefined),
    (_, lost) => {
      notCreated += lost;
    },
  );
  return { window: { from: new Date(second), to: new Date(second + 2_000) }, notCreated };
}
