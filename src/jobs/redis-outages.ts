import type { Redis } from "ioredis";
import type { Logger } from "../services/ports.js";
import type { OutageLog } from "../storage/outage-log.js";

/**
 * Redis going away shows up as an `error` event on every connection at every reconnect attempt,
 * re-emitted by every BullMQ worker: dozens of lines a minute. All of them go to one outage log,
 * so an outage is a line when it starts and one when it ends; any other error is logged as it comes.
 */

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);
/** What ioredis says, without a code, of a command cut off by the lost connection. */
const CONNECTION_MESSAGES = /^(Connection is closed|Stream isn't writeable)/;

export function isRedisConnectionError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (typeof code === "string" && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGES.test(error.message);
}

/** Reports a connection's losses and recoveries. Heard, its `error` events cannot crash the process. */
export function reportOutages(redis: Redis, health: OutageLog): Redis {
  redis.on("error", (error) => health.down(error));
  redis.on("ready", () => health.up());
  return redis;
}

/** A BullMQ worker's `error` listener. */
export function onWorkerError(queue: string, logger: Logger, health: OutageLog): (error: Error) => void {
  return (error) => {
    if (isRedisConnectionError(error)) health.down(error);
    else logger.error({ queue, error: error.message }, "worker error");
  };
}
