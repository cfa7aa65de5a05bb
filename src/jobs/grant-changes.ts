import { Redis, ReplyError } from "ioredis";
import { z } from "zod";
import { GRANT_STATUSES, type GrantChange } from "../domain/grant.js";
import type { GrantChangeListener, GrantChangeListeners, Logger } from "../services/ports.js";
import type { OutageLog } from "../storage/outage-log.js";
import { reportOutages } from "./redis-outages.js";

/**
 * Committed grant changes, told to whoever listens in any Sesame process: the admission webhook's
 * view of active grants and API calls waiting for a grant's status. The store reports a change
 * after its COMMIT; this process's listeners hear it at once, the other processes' through one
 * Redis PUBLISH per event-loop turn (all changes committed meanwhile in one message).
 *
 * Redis pub/sub, not PostgreSQL's NOTIFY: a transaction that sends a NOTIFY takes a lock global to
 * the server from its commit until it ends, so every activation and revoke of the install queued
 * behind every other one's WAL flush. A notice can be lost here (a process dies between its
 * commit and its publish, Redis is down, a listener reconnects); every listener therefore also
 * reads the database now and then, and a lost notice only delays what it would have told.
 */

export interface GrantChangeBus extends GrantChangeListeners {
  /** Changes that just committed: never throws, never waits. */
  committed(changes: readonly GrantChange[]): void;
  close(): Promise<void>;
}

/**
 * A message is the sender's instance id, a newline, and the changes as JSON: a process skips its
 * own messages without parsing them.
 */
const Changes = z.array(
  z.object({
    id: z.string(),
    subjectId: z.string(),
    resourceId: z.string(),
    status: z.enum(GRANT_STATUSES),
    expiresAtMs: z.number(),
    version: z.number().int(),
  }),
);
type Changes = z.infer<typeof Changes>;

export function subscriberName(instanceId: string): string {
  return `sesame-grant-changes:${instanceId.replace(/[^A-Za-z0-9:._-]/g, "_")}`;
}

export function grantChangeChannel(prefix: string): string {
  return `${prefix}:grant-changes`;
}

export function createGrantChangeBus(options: {
  /** Where notices are published: the producers' connection (fails fast while Redis is down). */
  publisher: Redis;
  redisUrl: string;
  prefix: string;
  /** This process: its own notices, heard back from Redis, were already told to its listeners. */
  instanceId: string;
  health: OutageLog;
  logger: Logger;
}): GrantChangeBus {
  const { publisher, instanceId, logger } = options;
  const channel = grantChangeChannel(options.prefix);
  const ownPrefix = `${instanceId}\n`;
  const listeners = new Set<GrantChangeListener>();
  let subscriber: Redis | undefined;
  let pending: GrantChange[] = [];
  let flushing: NodeJS.Immediate | undefined;
  let lastPublish: Promise<unknown> = Promise.resolve();

  // A listener's failure is its own: the changes are committed whatever it does with them.
  const each = (call: (listener: GrantChangeListener) => void) => {
    for (const listener of listeners) {
      try {
        call(listener);
      } catch (error) {
        logger.warn({ err: String(error) }, "a grant change listener failed");
      }
    }
  };
  const tell = (changes: readonly GrantChange[]) => each((listener) => listener.changed(changes));
  // Outages (and commands they cut off) are logged once by the outage log; a refusal by Redis
  // itself (an ACL without the channel) here.
  const refused = (what: string) => (error: Error) => {
    if (error instanceof ReplyError)
      logger.warn(
        { err: error.message, channel },
        `Redis refused to ${what} grant changes: other processes learn of them only by reading the database every 5 s; allow the channel in the Redis user's ACL`,
      );
  };

  const flush = () => {
    flushing = undefined;
    // Named field by field: the saved row a change carries for this process's listeners stays here.
    const changes: Changes = pending.map(({ id, subjectId, resourceId, status, expiresAt, version }) => ({
      id,
      subjectId,
      resourceId,
      status,
      expiresAtMs: expiresAt.getTime(),
      version,
    }));
    pending = [];
    // Lost while Redis is down: listeners elsewhere read the database again on their own.
    lastPublish = publisher.publish(channel, `${ownPrefix}${JSON.stringify(changes)}`).catch(refused("publish"));
  };

  const heard = (from: string, message: string) => {
    if (from !== channel || message.startsWith(ownPrefix)) return;
    let changes: Changes;
    try {
      changes = Changes.parse(JSON.parse(message.slice(message.indexOf("\n") + 1)));
    } catch {
      return; // Not a message of this version of Sesame: the periodic reads cover what it said.
    }
    tell(changes.map(({ expiresAtMs, ...rest }) => ({ ...rest, expiresAt: new Date(expiresAtMs) })));
  };

  const subscribe = () => {
    // Its own connection (a subscribed connection can do nothing else), retrying for ever. It
    // subscribes at every connect; until then changes were missed, so listeners read again once
    // the subscription stands.
    const fresh = reportOutages(
      new Redis(options.redisUrl, {
        maxRetriesPerRequest: null,
        autoResubscribe: false,
        // Named, so an operator (or a test) can tell it apart in CLIENT LIST.
        connectionName: subscriberName(instanceId),
      }),
      options.health,
    );
    fresh.on("message", heard);
    fresh.on("ready", () => {
      fresh
        .subscribe(channel)
        .then(() => each((listener) => listener.missed?.()))
        .catch(refused("subscribe to"));
    });
    subscriber = fresh;
  };

  return {
    committed(changes) {
      if (changes.length === 0) return;
      tell(changes);
      pending.push(...changes);
      flushing ??= setImmediate(flush);
    },
    listen(listener) {
      listeners.add(listener);
      if (!subscriber) subscribe();
      return () => listeners.delete(listener);
    },
    async close() {
      // The last changes go out before the publisher's connection is closed after this.
      if (flushing) {
        clearImmediate(flushing);
        flush();
      }
      await lastPublish;
      listeners.clear();
      subscriber?.disconnect();
      subscriber = undefined;
    },
  };
}
