import { type Logger as BoltLogger, LogLevel } from "@slack/bolt";
import type { Logger } from "../../services/ports.js";

/** Bolt's and the Web API client's log lines, routed to Sesame's logger (warnings and errors only: debug lines may echo payloads). */
export function boltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.WARN;
  const line = (parts: unknown[]) =>
    parts
      .map((part) => (part instanceof Error ? part.message : typeof part === "string" ? part : JSON.stringify(part)))
      .join(" ");
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (...parts: unknown[]) => logger.warn({ source: "slack" }, line(parts)),
    error: (...parts: unknown[]) => logger.error({ source: "slack" }, line(parts)),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
