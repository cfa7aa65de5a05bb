import pg from "pg";
import type { ActiveGrantView } from "../admission/active-grant-view.js";
import { GRANT_STATUSES, type GrantChange, type GrantStatus } from "../domain/grant.js";
import type { GrantChangeListeners, Logger } from "../services/ports.js";

/**
 * Keeps an ActiveGrantView current: the grant changes every Sesame process tells as it commits
 * (src/jobs/grant-changes.ts), a full read of the active grants at start and after every
 * reconnect of its own database connection, and a catch-up read of recently changed grants every
 * `pollMs`, so a change never told (a process died between commit and publish, Redis was away)
 * is taken in within one poll.
 */

/**
 * The catch-up read looks this far behind the last one: "updatedAt" is written with the writer's
 * clock when its statement runs, so a transaction that commits late, or a host whose clock is
 * behind, still falls into the window.
 */
const OVERLAP_MS = 2 * 60_000;
const RECONNECT_MIN_MS = 200;
/** How the feed's session shows in pg_stat_activity. */
export const FEED_APPLICATION_NAME = "sesame-admission-feed";
const RECONNECT_MAX_MS = 5_000;
/**
 * A connection gone half-open (a failover, a NAT that forgot it) shows no error. Reads that do
 * not answer in time end the connection instead of hanging for the kernel's ~15 minutes, and the
 * view counts as out of touch once no read succeeded for a few polls.
 */
const CONNECT_TIMEOUT_MS = 5_000;
const READ_TIMEOUT_MS = 10_000;
const POLLS_BEFORE_OUT_OF_TOUCH = 3;

export interface GrantChangeFeed {
  /** Settles once the first full read is in the view (rejects if the first connection fails). */
  ready: Promise<void>;
  /** Since when the view has been out of touch with the database (no read succeeded), or undefined while in touch. */
  outOfTouchSince(): number | undefined;
  /** Runs a catch-up read now (tests, and the poll timer). */
  catchUp(): Promise<void>;
  stop(): Promise<void>;
}

interface Row {
  id: string;
  subjectId: string;
  resourceId: string;
  status: GrantStatus;
  expiresAtMs: number;
  version: number;
}

const SELECT = `SELECT id, "subjectId", "resourceId", status::text AS status,
  (extract(epoch FROM "expiresAt") * 1000)::float8 AS "expiresAtMs", version FROM "Grant"`;

const toChange = (row: Row): GrantChange => ({
  id: row.id,
  subjectId: row.subjectId,
  resourceId: row.resourceId,
  status: row.status,
  expiresAt: new Date(Number(row.expiresAtMs)),
  version: Number(row.version),
});

export function startGrantChangeFeed(
  databaseUrl: string,
  view: ActiveGrantView,
  options: { pollMs: number; logger: Logger; changes: GrantChangeListeners },
): GrantChangeFeed {
  const { logger } = options;
  let client: pg.Client | undefined;
  let stopped = false;
  let outOfTouchSince: number | undefined = Date.now();
  let lastReadAt = Date.now();
  let watermarkMs = 0;
  let reconnectMs = RECONNECT_MIN_MS;
  let reconnectTimer: NodeJS.Timeout | undefined;
  /** Changes heard during a full read, applied after it. */
  let buffered: GrantChange[] | undefined;
  /** One read at a time on the connection: the full read, then catch-ups in turn. */
  let reading: Promise<void> = Promise.resolve();
  let resolveReady!: () => void;
  let rejectReady!: (error: Error) => void;
  let isReady = false;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });

  const lose = (lost: pg.Client, error?: Error) => {
    if (client !== lost) return;
    client = undefined;
    buffered = undefined;
    outOfTouchSince ??= Date.now();
    lost.end().catch(() => undefined);
    if (stopped) return;
    if (!isReady) {
      rejectReady(new Error(`could not read the active grants: ${error?.message ?? "connection closed"}`));
      return;
    }
    logger.warn(
      { err: error?.message, retryInMs: reconnectMs },
      "admission webhook lost its database connection; answering from the last known grants while reconnecting",
    );
    reconnectTimer = setTimeout(() => void connect(), reconnectMs);
    reconnectMs = Math.min(RECONNECT_MAX_MS, reconnectMs * 2);
  };

  const heard = (changes: readonly GrantChange[]) => {
    if (buffered) buffered.push(...changes);
    else view.apply(changes);
  };

  /** The database's clock, minus the overlap: where the next catch-up read starts. */
  const nextWatermark = async (on: pg.Client) => {
    const { rows } = await on.query<{ nowMs: number }>(`SELECT (extract(epoch FROM now()) * 1000)::float8 AS "nowMs"`);
    return Number(rows[0]!.nowMs) - OVERLAP_MS;
  };

  const fullRead = async (fresh: pg.Client) => {
    buffered = [];
    const watermark = await nextWatermark(fresh);
    const { rows } = await fresh.query<Row>(`${SELECT} WHERE status = 'active'`);
    view.replaceActive(rows.map(toChange));
    const heardMeanwhile = buffered;
    buffered = undefined;
    view.apply(heardMeanwhile);
    watermarkMs = watermark;
    lastReadAt = Date.now();
  };

  async function connect(): Promise<void> {
    reconnectTimer = undefined;
    if (stopped) return;
    const fresh = new pg.Client({
      connectionString: databaseUrl,
      keepAlive: true,
      application_name: FEED_APPLICATION_NAME,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      query_timeout: READ_TIMEOUT_MS,
      statement_timeout: READ_TIMEOUT_MS,
    });
    client = fresh;
    fresh.on("error", (error) => lose(fresh, error));
    fresh.on("end", () => lose(fresh));
    try {
      await fresh.connect();
      reading = reading.then(() => fullRead(fresh));
      await reading;
      if (client !== fresh) return;
      outOfTouchSince = undefined;
      reconnectMs = RECONNECT_MIN_MS;
      if (!isReady) logger.info({ activeGrants: view.size }, "admission webhook: active grants loaded");
      else logger.info({ activeGrants: view.size }, "admission webhook reconnected to the database");
      isReady = true;
      resolveReady();
    } catch (error) {
      reading = Promise.resolve();
      lose(fresh, error as Error);
    }
  }

  const catchUpOn = async (current: pg.Client) => {
    const watermark = await nextWatermark(current);
    // "updatedAt" holds UTC without a zone (Prisma's DateTime): compare in UTC whatever the session's zone.
    const { rows } = await current.query<Row>(
      `${SELECT} WHERE status = ANY($1::"GrantStatus"[]) AND "updatedAt" > (to_timestamp($2 / 1000.0) AT TIME ZONE 'UTC')`,
      [GRANT_STATUSES, watermarkMs],
    );
    view.apply(rows.map(toChange));
    view.forgetOld();
    watermarkMs = watermark;
    lastReadAt = Date.now();
  };

  const catchUp = async () => {
    const current = client;
    if (!current || !isReady) return;
    reading = reading.then(() => catchUpOn(current)).catch((error: Error) => lose(current, error));
    await reading;
  };

  // Changes missed until the subscription stood (or came back) are in the next catch-up read.
  const stopListening = options.changes.listen({ changed: heard, missed: () => void catchUp() });
  const poll = setInterval(() => void catchUp(), options.pollMs);
  poll.unref();
  void connect();

  return {
    ready,
    outOfTouchSince: () =>
      outOfTouchSince ??
      (Date.now() - lastReadAt > POLLS_BEFORE_OUT_OF_TOUCH * options.pollMs ? lastReadAt : undefined),
    catchUp,
    async stop() {
      stopped = true;
      stopListening();
      clearInterval(poll);
      clearTimeout(reconnectTimer);
      const current = client;
      client = undefined;
      await reading.catch(() => undefined);
      await current?.end().catch(() => undefined);
    },
  };
}
