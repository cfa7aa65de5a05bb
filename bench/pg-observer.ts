import type pg from "pg";
import { connect } from "./bench-database.js";
import { mean } from "./stats.js";
import { sleep } from "./wait.js";

/** What the lock sampler saw while it ran. */
export interface LockSamples {
  samples: number;
  /** Sessions of the database waiting for an advisory lock (Sesame's audit chain and entitlement locks). */
  advisoryWaitingAvg: number;
  advisoryWaitingMax: number;
  /**
   * How many distinct advisory locks those sessions waited for, averaged over the samples where
   * any did: near 1 means one lock serialises everyone (a global lock), more means per-item locks.
   */
  advisoryLocksWhenWaiting: number;
  /**
   * The advisory lock with the most waiting sessions over all samples, as the 64-bit key given
   * to pg_advisory_xact_lock (in hex, to compare with the constants in the source), and its share
   * of all waits; undefined when nobody waited.
   */
  mostWaitedFor?: { key: string; share: number };
  /**
   * Sessions of the database waiting for a lock of any kind: row locks (`transactionid`, one per
   * row, so not global), relation locks, and the lock PostgreSQL takes at the commit of every
   * transaction that sent a NOTIFY (`object` 1262:0), which is global to the server.
   */
  anyWaitingAvg: number;
  anyWaitingMax: number;
  /** The kind of lock waited for most often (e.g. `object 1262:0`), and its share of all waits. */
  mostWaitedKind?: { kind: string; share: number };
  /** Sessions of the database running a statement at that instant. */
  activeAvg: number;
  failedSamples: number;
}

export interface LockSampler {
  stop(): Promise<LockSamples>;
}

export interface ServerInfo {
  version: string;
  fsync: string;
  synchronousCommit: string;
}

/**
 * Reads the statistics of one database from a session on the server's maintenance database, so
 * the observer's own queries are never counted in the database it observes.
 */
export interface PgObserver {
  /** Transactions committed in the database so far (pg_stat_database.xact_commit). */
  xactCommit(): Promise<number>;
  /**
   * Waits until nobody is connected to the database. A backend reports the counts of its last
   * second only when it next goes idle after a second has passed, or when it disconnects; so
   * counts are complete once every session has ended (pg pools close idle connections after 10 s).
   * False when sessions were still there at the deadline.
   */
  waitForNoSessions(timeoutMs: number): Promise<boolean>;
  sampleLocks(intervalMs: number): LockSampler;
  serverInfo(): Promise<ServerInfo>;
  close(): Promise<void>;
}

export async function observeDatabase(serverUrl: string, database: string): Promise<PgObserver> {
  const client: pg.Client = await connect(serverUrl);
  const scalar = async (sql: string, params: unknown[] = []): Promise<string> => {
    const { rows } = await client.query<{ value: string }>(sql, params);
    return rows[0]?.value ?? "";
  };
  const sessions = async () =>
    Number(await scalar("SELECT count(*) AS value FROM pg_stat_activity WHERE datname = $1", [database]));

  return {
    xactCommit: async () =>
      Number(await scalar("SELECT xact_commit AS value FROM pg_stat_database WHERE datname = $1", [database])),

    async waitForNoSessions(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if ((await sessions()) === 0) return true;
        await sleep(250);
      }
      return false;
    },

    sampleLocks(intervalMs) {
      const advisory: number[] = [];
      const any: number[] = [];
      const waitsByKind = new Map<string, number>();
      const keys: number[] = [];
      const waitsByKey = new Map<string, number>();
      const active: number[] = [];
      let failedSamples = 0;
      let stopping = false;
      // Samples one after another (never overlapping), so a slow server lowers the rate, not the accuracy.
      const loop = (async () => {
        while (!stopping) {
          try {
            const { rows } = await client.query<{ waiting: string[] | null; kinds: string[] | null; active: number }>(
              `SELECT
                 (SELECT array_agg(((l.classid::bigint << 32) | l.objid::bigint)::text)
                    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                   WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = $1) AS waiting,
                 (SELECT array_agg(l.locktype || CASE WHEN l.locktype IN ('object', 'advisory')
                                     THEN ' ' || l.classid || ':' || l.objid ELSE '' END)
                    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                   WHERE NOT l.granted AND a.datname = $1) AS kinds,
                 (SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'active')::int AS active`,
              [database],
            );
            const waiting = rows[0]!.waiting ?? [];
            advisory.push(waiting.length);
            if (waiting.length > 0) keys.push(new Set(waiting).size);
            for (const key of waiting) waitsByKey.set(key, (waitsByKey.get(key) ?? 0) + 1);
            const kinds = rows[0]!.kinds ?? [];
            any.push(kinds.length);
            for (const kind of kinds) waitsByKind.set(kind, (waitsByKind.get(kind) ?? 0) + 1);
            active.push(rows[0]!.active);
          } catch {
            failedSamples += 1;
          }
          await sleep(intervalMs);
        }
      })();
      return {
        async stop() {
          stopping = true;
          await loop;
          return {
            samples: advisory.length,
            advisoryWaitingAvg: mean(advisory),
            advisoryWaitingMax: Math.max(0, ...advisory),
            advisoryLocksWhenWaiting: keys.length === 0 ? 0 : mean(keys),
            mostWaitedFor: mostWaitedFor(waitsByKey),
            anyWaitingAvg: mean(any),
            anyWaitingMax: Math.max(0, ...any),
            mostWaitedKind: mostWaitedKind(waitsByKind),
            activeAvg: mean(active),
            failedSamples,
          };
        },
      };
    },

    async serverInfo() {
      return {
        version: await scalar("SELECT current_setting('server_version') AS value"),
        fsync: await scalar("SELECT current_setting('fsync') AS value"),
        synchronousCommit: await scalar("SELECT current_setting('synchronous_commit') AS value"),
      };
    },

    close: () => client.end(),
  };
}

function mostWaitedFor(waitsByKey: Map<string, number>): { key: string; share: number } | undefined {
  const sorted = [...waitsByKey].sort((a, b) => b[1] - a[1]);
  const top = sorted[0];
  if (!top) return undefined;
  const total = sorted.reduce((sum, [, waits]) => sum + waits, 0);
  return { key: `0x${BigInt.asUintN(64, BigInt(top[0])).toString(16)}`, share: top[1] / total };
}

function mostWaitedKind(waitsByKind: Map<string, number>): { kind: string; share: number } | undefined {
  const sorted = [...waitsByKind].sort((a, b) => b[1] - a[1]);
  const top = sorted[0];
  if (!top) return undefined;
  const total = sorted.reduce((sum, [, waits]) => sum + waits, 0);
  return { kind: top[0], share: top[1] / total };
}
