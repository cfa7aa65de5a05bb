import { createKeepAliveClient } from "./keep-alive-client.js";

/** A thin client of Sesame's REST API that counts every answer, as seen by the bench. */

export interface ApiResult {
  /** The HTTP status, or 0 when no answer came (connection refused, reset, timed out). */
  status: number;
  body: unknown;
  ms: number;
}

export interface ApiTally {
  calls: number;
  /** Calls by HTTP status, errors included: a 429 means Sesame throttled the bench, a 5xx is a Sesame bug. */
  byStatus: Record<string, number>;
}

export interface SesameApi {
  call(token: string, method: "GET" | "POST", path: string, body?: unknown): Promise<ApiResult>;
  tally(): ApiTally;
}

/** One call may take this long before it counts as unanswered; the bench must not hang on a stuck server. */
const CALL_TIMEOUT_MS = 30_000;

/**
 * Keep-alive sockets, so concurrent requesters reuse their connections as a real client would,
 * through node:http rather than fetch: fetch costs several times the CPU per call, and the bench
 * shares two cores with Sesame, PostgreSQL and Redis.
 */
export function createApi(baseUrl: string): SesameApi {
  const client = createKeepAliveClient(256, CALL_TIMEOUT_MS);
  let calls = 0;
  const byStatus: Record<string, number> = {};
  return {
    async call(token, method, path, body) {
      calls += 1;
      const started = performance.now();
      let result: ApiResult;
      try {
        const answer = await client.send(
          method,
          `${baseUrl}${path}`,
          body === undefined ? undefined : JSON.stringify(body),
          { authorization: `Bearer ${token}` },
        );
        result = {
          status: answer.status,
          body: answer.text ? parseJson(answer.text) : undefined,
          ms: performance.now() - started,
        };
      } catch (error) {
        result = { status: 0, body: { error: String(error) }, ms: performance.now() - started };
      }
      byStatus[result.status] = (byStatus[result.status] ?? 0) + 1;
      return result;
    },
    tally: () => ({ calls, byStatus: { ...byStatus } }),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A field of a JSON object answer, if it is a string. */
export function stringField(body: unknown, field: string): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const value = (body as Record<string, unknown>)[field];
  return typeof value === "string" ? value : undefined;
}

/** A short description of an answer for failure reports: status, error code and message. */
export function describeAnswer(result: ApiResult): string {
  const error =
    typeof result.body === "object" && result.body !== null ? (result.body as { error?: unknown }).error : undefined;
  const detail =
    typeof error === "object" && error !== null
      ? `${stringField(error, "code") ?? ""}: ${stringField(error, "message") ?? ""}`
      : String(error ?? JSON.stringify(result.body)?.slice(0, 200));
  return `HTTP ${result.status} ${detail}`;
}
