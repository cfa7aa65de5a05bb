import { AppError } from "../../domain/errors.js";
import { CONNECTION_LOST_CODES, connectionLostHint, isAbortOrTimeout, socketCodeOf } from "../connection-lost.js";
import type { RetryAdvice } from "../quick-retry.js";
import { apiErrorReporting, describeError } from "../redact.js";

/**
 * Errors from Microsoft Graph and the Microsoft identity platform, turned into operator advice.
 * Graph answers `{ error: { code, message } }` and, when throttling, 429 (or 503) with Retry-After
 * in seconds; the token endpoint answers `{ error, error_description }` (AADSTS codes). Network
 * errors come from Node's fetch, the socket code nested in `cause`.
 */

export const README = "src/connectors/entra-group/README.md";
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
const LOST = new Set([...CONNECTION_LOST_CODES, "UND_ERR_SOCKET"]);
const MAX_RETRY_AFTER_MS = 5_000;

/** A non-2xx answer from Graph (`source: "graph"`) or from the token endpoint (`source: "token"`). */
export class GraphError extends Error {
  constructor(
    readonly source: "graph" | "token",
    readonly status: number,
    readonly code: string | undefined,
    readonly detail: string | undefined,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${status}${code === undefined ? "" : ` ${code}`}${detail === undefined ? "" : `: ${detail}`}`);
    this.name = "GraphError";
  }
}

function socketCode(error: unknown): string | undefined {
  return error instanceof GraphError ? undefined : socketCodeOf(error);
}

const isTimeout = isAbortOrTimeout;

export function retryAdvice(error: unknown): RetryAdvice {
  if (error instanceof AppError) return { retry: false };
  if (error instanceof GraphError) {
    if (error.status === 429 || error.status === 503 || error.status === 504) {
      if (error.retryAfterMs === undefined) return { retry: true };
      // A longer wait than the quick retries allow is left to the job: retrying early only earns another 429.
      return error.retryAfterMs <= MAX_RETRY_AFTER_MS ? { retry: true, afterMs: error.retryAfterMs } : { retry: false };
    }
    return { retry: error.status >= 500 };
  }
  const code = socketCode(error);
  if (isTimeout(error) || (code !== undefined && (LOST.has(code) || UNREACHABLE.has(code)))) return { retry: true };
  return { retry: false };
}

export function describeGraphError(error: unknown, secrets: readonly string[]): string {
  if (error instanceof GraphError) return describeError(error, secrets).slice(0, 300).replace(/\.+$/, "");
  if (isTimeout(error)) return "Microsoft Graph did not answer in time";
  const code = socketCode(error);
  const text = describeError(error, secrets).slice(0, 200);
  return code === undefined || text.includes(code) ? text : `${text} (${code})`;
}

export function graphHint(error: unknown): string {
  if (error instanceof GraphError) {
    if (error.source === "token")
      return error.status >= 500
        ? "The Microsoft identity platform had a server error; the job retries later."
        : "Entra did not accept Sesame's app credentials: check tenantId, clientId and the client secret in the environment (secrets expire; see the app registration's Certificates & secrets).";
    if (error.status === 401)
      return "Graph did not accept Sesame's token: check the app registration and the connector's graphUrl and authorityUrl (same cloud).";
    if (error.status === 403)
      return `Sesame's app lacks a Graph permission (or admin consent) for this: run sesame connectors check, and see ${README}.`;
    if (error.status === 404) return "The user or group does not exist in this tenant, or the graphUrl is wrong.";
    if (error.status === 429 || error.status === 503)
      return error.retryAfterMs !== undefined && error.retryAfterMs > MAX_RETRY_AFTER_MS
        ? `Microsoft Graph asked Sesame to wait ${Math.ceil(error.retryAfterMs / 1000)} s (Retry-After); the job retries later.`
        : "Microsoft Graph kept throttling Sesame after the quick retries; the job retries later.";
    if (error.status >= 500) return "Microsoft Graph had a server error; the job retries later.";
    return "Graph refused the change; see its message.";
  }
  const code = socketCode(error);
  if (code !== undefined && LOST.has(code)) return connectionLostHint("Microsoft Graph");
  if (isTimeout(error) || (code !== undefined && UNREACHABLE.has(code)))
    return "Check the connector's graphUrl and authorityUrl and that Sesame can reach them, then retry.";
  return "Check the connector's graphUrl and authorityUrl; the job retries.";
}

const reporting = apiErrorReporting({
  describe: describeGraphError,
  hint: graphHint,
  httpStatus: (error) => (error instanceof GraphError ? error.status : undefined),
});
export const toGraphError = reporting.toError;
export const graphProblem = reporting.problem;
