import { AppError } from "../../domain/errors.js";
import { CONNECTION_LOST_CODES, connectionLostHint, isAbortOrTimeout, socketCodeOf } from "../connection-lost.js";
import type { RetryAdvice } from "../quick-retry.js";
import { apiErrorReporting, describeError } from "../redact.js";

/**
 * Errors from @octokit/rest turned into operator advice. A RequestError carries `status` and the
 * `response` (headers, data `{ message, documentation_url }`). GitHub's secondary rate limits
 * answer 403 or 429 with `retry-after` (seconds), or with `x-ratelimit-remaining: 0` and
 * `x-ratelimit-reset` (epoch seconds); a 403 without them is a missing permission.
 */

export const README = "src/connectors/github-team/README.md";
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
const LOST = new Set([...CONNECTION_LOST_CODES, "UND_ERR_SOCKET"]);
const MAX_WAIT_MS = 5_000;

interface OctokitError {
  status?: unknown;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
  code?: unknown;
  name?: unknown;
  cause?: unknown;
}

export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof AppError) return undefined;
  const candidate = error as OctokitError | null;
  // Octokit reports a network failure as status 500 without a response: that is no HTTP answer.
  if (candidate?.response === undefined) return undefined;
  return typeof candidate.status === "number" ? candidate.status : undefined;
}

const socketCode = socketCodeOf;

const isTimeout = isAbortOrTimeout;

/** How long GitHub asks Sesame to wait (secondary or primary rate limit); undefined when it is no rate limit. */
export function rateLimitWaitMs(error: unknown, now: () => number = Date.now): number | undefined {
  const status = httpStatusOf(error);
  if (status !== 403 && status !== 429) return undefined;
  const headers = (error as OctokitError).response?.headers ?? {};
  const retryAfter = Number(headers["retry-after"]);
  if (headers["retry-after"] !== undefined && Number.isFinite(retryAfter)) return Math.max(0, retryAfter * 1000);
  if (headers["x-ratelimit-remaining"] === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    return Number.isFinite(reset) ? Math.max(0, reset * 1000 - now() + 1000) : 60_000;
  }
  // GitHub's documented fallback for a secondary limit without headers: wait at least a minute.
  return status === 429 ? 60_000 : undefined;
}

export function retryAdvice(error: unknown): RetryAdvice {
  if (error instanceof AppError) return { retry: false };
  const wait = rateLimitWaitMs(error);
  if (wait !== undefined) return wait <= MAX_WAIT_MS ? { retry: true, afterMs: wait } : { retry: false };
  const status = httpStatusOf(error);
  if (status !== undefined) return { retry: status >= 500 };
  const code = socketCode(error);
  if (isTimeout(error) || (code !== undefined && (LOST.has(code) || UNREACHABLE.has(code)))) return { retry: true };
  return { retry: false };
}

function githubMessage(error: unknown): string | undefined {
  const data = (error as OctokitError).response?.data;
  const message = (data as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message.slice(0, 200) : undefined;
}

export function describeGithubError(error: unknown, secrets: readonly string[]): string {
  const status = httpStatusOf(error);
  if (status !== undefined)
    return describeError(
      new Error(`HTTP ${status}: ${githubMessage(error) ?? "a body that is not GitHub's JSON"}`),
      secrets,
    );
  if (isTimeout(error)) return "GitHub did not answer in time";
  const code = socketCode(error);
  const text = describeError(error, secrets).slice(0, 200);
  return code === undefined || text.includes(code) ? text : `${text} (${code})`;
}

export function githubHint(error: unknown): string {
  const status = httpStatusOf(error);
  const wait = rateLimitWaitMs(error);
  if (wait !== undefined)
    return `GitHub is rate-limiting Sesame for about ${Math.ceil(wait / 1000)} s more; the job retries later.`;
  if (status === 401)
    return "GitHub did not accept Sesame's token: it is wrong, expired or revoked. Set a new one in the environment variable the connector's token names.";
  if (status === 403)
    return `Sesame's token may not manage this team's members: run sesame connectors check, and see ${README} for the permission it needs.`;
  if (status === 404)
    return "The organization or team does not exist, or Sesame's token cannot see it (GitHub answers 404 for both).";
  if (status === 422)
    return "GitHub refused the change; see its message (an unknown user, a team of another organization).";
  if (status !== undefined && status >= 500) return "GitHub had a server error; the job retries later.";
  if (status !== undefined) return "Check the connector's apiUrl.";
  const code = socketCode(error);
  if (code !== undefined && LOST.has(code)) return connectionLostHint("GitHub");
  if (isTimeout(error) || (code !== undefined && UNREACHABLE.has(code)))
    return "Check the connector's apiUrl and that Sesame can reach GitHub, then retry.";
  return "Check the connector's apiUrl; the job retries.";
}

const reporting = apiErrorReporting({ describe: describeGithubError, hint: githubHint, httpStatus: httpStatusOf });
export const toGithubError = reporting.toError;
export const githubProblem = reporting.problem;
