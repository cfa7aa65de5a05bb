import { isDatabaseUnavailable } from "../storage/database-errors.js";

/**
 * A failure that changed nothing and may pass on a retry: no database connection was free in time
 * (the pool exhausted by a burst), or Prisma could not start the transaction (P2028, "Unable to
 * start a transaction in the given time"). Chat actions that fail so are retried, not reported.
 */
export function isTransientFailure(error: unknown): boolean {
  if (isDatabaseUnavailable(error)) return true;
  for (
    let current: unknown = error, depth = 0;
    depth < 5 && typeof current === "object" && current !== null;
    depth += 1
  ) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (code === "P2028" || (typeof message === "string" && /Unable to start a transaction/.test(message))) return true;
    current = cause;
  }
  return false;
}
