import { AppError } from "../../domain/errors.js";
import { CONNECTION_LOST_CODES, connectionLostHint, isAbortOrTimeout, socketCodeOf } from "../connection-lost.js";
import type { RetryAdvice } from "../quick-retry.js";
import { apiErrorReporting, describeError } from "../redact.js";

/**
 * Turns Google API client errors into operator advice. A Google API error carries the HTTP status
 * and a body `{ error: { code, status, message } }`; network errors carry a socket code, possibly
 * on a nested cause.
 */

export const README = "src/connectors/gcp-iam/README.md";
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
const LOST = new Set([...CONNECTION_LOST_CODES, "ERR_STREAM_PREMATURE_CLOSE", "UND_ERR_SOCKET"]);

interface GoogleError {
  status?: unknown;
  code?: unknown;
  response?: { status?: unknown; data?: unknown };
  cause?: unknown;
  name?: unknown;
}

export function httpStatusOf(error: unknown): number | undefined {
  const candidate = error as GoogleError | null;
  const status = candidate?.response?.status ?? candidate?.status;
  return typeof status === "number" ? status : undefined;
}

/** Google's canonical error status (ABORTED, PERMISSION_DENIED, ...) and message, when the body has them. */
function googleStatus(error: unknown): { status?: string; message?: string } {
  const data = (error as GoogleError | null)?.response?.data;
  const body = (data as { error?: { status?: unknown; message?: unknown } } | null)?.error;
  return {
    ...(typeof body?.status === "string" ? { status: body.status } : {}),
    ...(typeof body?.message === "string" ? { message: body.message } : {}),
  };
}

const socketCode = socketCodeOf;

/** setIamPolicy refused because the policy changed since it was read: 409 ABORTED (or a 412 on the etag). */
export function isPolicyConflict(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status === 409 || status === 412 || googleStatus(error).status === "ABORTED";
}

const isTimeout = isAbortOrTimeout;

export function retryAdvice(error: unknown): RetryAdvice {
  if (error instanceof AppError) return { retry: false };
  const status = httpStatusOf(error);
  if (status !== undefined) return { retry: status === 429 || status >= 500 };
  const code = socketCode(error);
  if (isTimeout(error) || (code !== undefined && (LOST.has(code) || UNREACHABLE.has(code)))) return { retry: true };
  return { retry: false };
}

export function describeGcpError(error: unknown, secrets: readonly string[]): string {
  const status = httpStatusOf(error);
  const google = googleStatus(error);
  if (status !== undefined) {
    const detail = google.message ?? (google.status === undefined ? "no details" : "");
    return describeError(
      new Error(`HTTP ${status}${google.status === undefined ? "" : ` ${google.status}`}: ${detail}`),
      secrets,
    );
  }
  if (isTimeout(error)) return "the API did not answer in time";
  const code = socketCode(error);
  const text = describeError(error, secrets);
  return code === undefined || text.includes(code) ? text : `${text} (${code})`;
}

const CREDENTIALS_HINT =
  "Google did not accept Sesame's credentials, or found none: set GOOGLE_APPLICATION_CREDENTIALS (a workload identity federation or key file) or run Sesame with a service account attached (GKE workload identity, a VM's service account).";

export function gcpHint(error: unknown): string {
  const status = httpStatusOf(error);
  if (status === 401) return CREDENTIALS_HINT;
  if (status === 403)
    return `Sesame's Google identity lacks a permission on this resource, or the resource does not exist: run sesame connectors check, and see ${README} for the role it needs.`;
  if (status === 404) return "The project, folder or organization does not exist, or the apiEndpoint is wrong.";
  if (status === 400)
    return "Google refused the policy change; check the target's role (it must exist and accept conditions).";
  if (status === 429) return "Google kept throttling Sesame after the quick retries; the job retries later.";
  if (status !== undefined && status >= 500) return "Google had a server error; the job retries later.";
  if (status !== undefined)
    return "Check the connector's apiEndpoint: it must point at the Cloud Resource Manager API (or leave it out).";
  const code = socketCode(error);
  if (code !== undefined && LOST.has(code)) return connectionLostHint("the Google Cloud Resource Manager API");
  if (isTimeout(error) || (code !== undefined && UNREACHABLE.has(code)))
    return "Check the connector's apiEndpoint and that Sesame can reach Google, then retry.";
  // No HTTP answer and no network error: the token source failed before any API request was sent
  // (no Application Default Credentials, an unreadable key file, a refused token exchange).
  return CREDENTIALS_HINT;
}

const reporting = apiErrorReporting({ describe: describeGcpError, hint: gcpHint, httpStatus: httpStatusOf });
export const toGcpError = reporting.toError;
export const gcpProblem = reporting.problem;
