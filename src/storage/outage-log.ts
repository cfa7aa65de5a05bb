import { describeError } from "../connectors/redact.js";
import type { Logger } from "../services/ports.js";

/**
 * Logs an outage of a service Sesame depends on (PostgreSQL, Redis) once when it starts and once
 * when it ends, however many requests, jobs, sweeps or reconnect attempts fail in between: a line
 * per failure would bury the two lines an operator needs.
 */
export interface OutageLog {
  /** A failure showing the service is gone; only the first of an outage is logged. */
  down(error: unknown): void;
  /** The service answered; logged only when that ends an outage. */
  up(): void;
}

export interface OutageMessages {
  service: string;
  /** Logged at the start, as an error: what stops working and what to check. */
  down: string;
  /** Logged at the end. */
  up: string;
  /** Connection strings whose credentials must never reach a log line, whatever a driver echoes. */
  secrets: readonly string[];
}

/** The line a driver error ends with says what happened; Prisma puts the calling code above it. */
function reason(error: unknown, secrets: readonly string[]): string {
  const lines = describeError(error, secrets)
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return (lines.at(-1) ?? "unknown error").slice(0, 300);
}

export function createOutageLog(logger: Logger, messages: OutageMessages): OutageLog {
  let downSince: number | undefined;
  return {
    down(error) {
      if (downSince !== undefined) return;
      downSince = Date.now();
      logger.error({ service: messages.service, reason: reason(error, messages.secrets) }, messages.down);
    },
    up() {
      if (downSince === undefined) return;
      const downForSeconds = Math.round((Date.now() - downSince) / 1000);
      downSince = undefined;
      logger.info({ service: messages.service, downForSeconds }, messages.up);
    },
  };
}
