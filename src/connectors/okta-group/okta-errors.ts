import { AppError } from "../../domain/errors.js";
import { CONNECTION_LOST_CODES, connectionLostHint, isAbortOrTimeout, socketCodeOf } from "../connection-lost.js";
import type { RetryAdvice } from "../quick-retry.js";
import { apiErrorReporting, describeError } from "../redact.js";

/**
 * Turns errors from the Okta SDK into operator advice. Okta answers errors as
 * `{ errorCode: "E0000006", errorSummary, errorCauses }`; the SDK throws an OktaApiError carrying
 * `status`, `errorCode`, `errorSummary` and the response `headers`, or an HttpError (a body that is
 * not JSON). Network errors come from Node's fetch, the socket code nested in `cause`.
 */

export const README = "src/connectors/okta-group/README.md";
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
const LOST = new Set([...CONNECTION_LOST_CODES, "UND_ERR_SOCKET"]);
/** Quick retries wait at most this long for Okta's rate limit to reset; a later reset is left to the job's retry. */
const MAX_RATE_LIMIT_WAIT_MS = 5_000;

interface OktaError {
  status?: unknown;
  errorCode?: unknown;
  errorSummary?: unknown;
  headers?: { get?(name: string): string | null };
  code?: unknown;
  name?: unknown;
  cause?: unknown;
}

export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof AppError) return undefined;
  const status = (error as OktaError | null)?.status;
  return typeof status === "number" ? status : undefined;
}

const socketCode = socketCodeOf;

const isTimeout = isAbortOrTimeout;

/**
 * How long until Okta's rate limit window resets: X-Rate-Limit-Reset (epoch seconds) against the
 * answer's own Date header (so clock skew between Okta and Sesame does not count), plus a second
 * for the sub-second part, as Okta's SDKs do. Undefined when the headers are missing or unreadable.
 */
export function rateLimitWaitMs(error: unknown, now: () => number = Date.now): number | undefined {
  const headers = (error as OktaError | null)?.headers;
  const reset = Number(headers?.get?.("x-rate-limit-reset") ?? Number.NaN);
  if (!Number.isFinite(reset)) return undefined;
  const dated = Date.parse(headers?.get?.("date") ?? "");
  const wait = reset * 1000 - (Number.isFinite(dated) ? dated : now()) + 1000;
  return Math.max(0, wait);
}

export function retryAdvice(error: unknown): RetryAdvice {
  if (error instanceof AppError) return { retry: false };
  const status = httpStatusOf(error);
  if (status === 429) {
    const wait = rateLimitWaitMs(error);
    if (wait === undefined) return { retry: true };
    return wait <= MAX_RATE_LIMIT_WAIT_MS ? { retry: true, afterMs: wait } : { retry: false };
  }
  if (status !== undefined) return { retry: status >= 500 };
  const code = socketCode(error);
  if (isTimeout(error) || (code !== undefined && (LOST.has(code) || UNREACHABLE.has(code)))) return { retry: true };
  return { retry: false };
}

export function describeOktaError(error: unknown, secrets: readonly string[]): string {
  const status = httpStatusOf(error);
  const okta = error as OktaError;
  if (status !== undefined) {
    if (typeof okta.errorCode === "string")
      return describeError(
        new Error(
          `HTTP ${status} ${okta.errorCode}: ${typeof okta.errorSummary === "string" ? okta.errorSummary : ""}`,
        ),
        secrets,
      );
    return `HTTP ${status} with a body that is not Okta's JSON`;
  }
  if (isTimeout(error)) return "Okta did not answer in time";
  const code = socketCode(error);
  if (code !== undefined) return `${describeError(error, secrets).slice(0, 200)} (${code})`;
  // Neither an HTTP error nor a socket error: the SDK could not read what came back.
  return `Okta's answer could not be read (${describeError(error, secrets).slice(0, 160)})`;
}

export function oktaHint(error: unknown): string {
  const status = httpStatusOf(error);
  if (status === 401)
    return "Okta did not accept Sesame's API token: it is wrong, expired (unused for 30 days) or revoked, or its admin was deactivated. Set a new one in the environment variable the connector's token names.";
  if (status === 403)
    return `Sesame's Okta admin lacks a permission for this group or user: run sesame connectors check, and see ${README} for the role it needs.`;
  if (status === 404) return "The user or group does not exist in this Okta org, or the orgUrl is wrong.";
  if (status === 429) {
    const wait = rateLimitWaitMs(error);
    return wait === undefined
      ? "Okta kept rate-limiting Sesame after the quick retries; the job retries later."
      : `Okta's rate limit resets in about ${Math.ceil(wait / 1000)} s; the job retries later.`;
  }
  if (status !== undefined && status >= 500) return "Okta had a server error; the job retries later.";
  if (status !== undefined)
    return "Check the connector's orgUrl: it must be your Okta org, e.g. https://example.okta.com.";
  const code = socketCode(error);
  if (code !== undefined && LOST.has(code)) return connectionLostHint("Okta");
  if (isTimeout(error) || (code !== undefined && UNREACHABLE.has(code)))
    return "Check the connector's orgUrl and that Sesame can reach Okta, then retry.";
  return "Check the connector's orgUrl: it must be your Okta org (no proxy page in between); the job retries.";
}

const reporting = apiErrorReporting({ describe: describeOktaError, hint: oktaHint, httpStatus: httpStatusOf });
export const toOktaError = reporting.toError;
export const oktaProblem = reporting.problem;
