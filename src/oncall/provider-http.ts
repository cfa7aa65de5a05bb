import { setTimeout as sleepFor } from "node:timers/promises";
import type { z } from "zod";
import { redactSecrets } from "../connectors/redact.js";
import { truncate } from "./provider.js";
import { type Attempt, withRetries } from "./provider-retry.js";

/**
 * HTTP to on-call providers on Node's fetch: a timeout on every attempt, JSON in and out, every
 * answer checked with zod, and every failure turned into a short reason that holds no secret.
 */

/** Why a provider could not answer, in words safe for logs and chat: never a key, a header or a URL's password. */
export class ProviderFailure extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "ProviderFailure";
  }
}

export interface ProviderRequest {
  method: "GET" | "POST";
  url: URL;
  headers: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
}

export interface Expectation<S extends z.ZodType> {
  okStatus: number;
  schema: S;
  /** Redacted from anything the provider answers before it reaches a message. */
  secrets: readonly (string | undefined)[];
}

export interface ProviderHttp {
  /** One attempt: a look-up that fails is better fast, and the next look-up tries again. */
  read<S extends z.ZodType>(request: ProviderRequest, expect: Expectation<S>): Promise<z.output<S>>;
  /** A few attempts within a bounded time: a page should get through, and its dedup key makes a repeat harmless. */
  send<S extends z.ZodType>(request: ProviderRequest, expect: Expectation<S>): Promise<z.output<S>>;
}

export interface ProviderHttpOptions {
  timeoutMs: number;
  /** Waits between attempts of `send`; tests pass one that records instead of waiting. */
  sleep?: (ms: number) => Promise<void>;
}

const SEND_ATTEMPTS = 3;

export function createProviderHttp(options: ProviderHttpOptions): ProviderHttp {
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms));
  return {
    read: async (request, expect) => parseAnswer(await exchange(request, options.timeoutMs), expect),
    send: async (request, expect) => {
      const policy = {
        attempts: SEND_ATTEMPTS,
        timeoutMs: options.timeoutMs,
        budgetMs: SEND_ATTEMPTS * options.timeoutMs,
        sleep,
      };
      return parseAnswer(await withRetries((timeoutMs) => exchange(request, timeoutMs), policy), expect);
    },
  };
}

async function exchange(request: ProviderRequest, timeoutMs: number): Promise<Attempt> {
  const json = request.body !== undefined;
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: {
        ...request.headers,
        Accept: request.headers.Accept ?? "application/json",
        ...(json ? { "Content-Type": "application/json" } : {}),
      },
      ...(json ? { body: JSON.stringify(request.body) } : {}),
      // A redirect would carry the Authorization header to wherever it points: take it as an answer instead.
      redirect: "manual",
      // Covers the body too: a provider that sends headers and then stalls still times out.
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return {
      answer: {
        status: response.status,
        statusText: response.statusText,
        retryAfter: response.headers.get("retry-after") ?? undefined,
        text,
      },
    };
  } catch (error) {
    return { failure: transportReason(error, timeoutMs) };
  }
}

const CONNECT_WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  ECONNRESET: "connection reset",
  UND_ERR_SOCKET: "connection closed",
};

/** Built from the error's name and code only: fetch's messages may quote the URL. */
function transportReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
    return `no answer within ${timeoutMs / 1000} s`;
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  if (code === undefined) return "cannot reach it";
  return `cannot reach it (${CONNECT_WORDS[code] ?? code})`;
}

function parseAnswer<S extends z.ZodType>(attempt: Attempt, expect: Expectation<S>): z.output<S> {
  if ("failure" in attempt) throw new ProviderFailure(attempt.failure);
  const { answer } = attempt;
  const secrets = expect.secrets.filter((secret): secret is string => secret !== undefined && secret !== "");
  if (answer.status !== expect.okStatus) {
    const waitHint =
      answer.status === 429 && answer.retryAfter !== undefined
        ? ` (asked to retry after ${answer.retryAfter.slice(0, 40)})`
        : "";
    const detail = providerMessage(answer.text);
    throw new ProviderFailure(
      redactSecrets(
        `it answered HTTP ${answer.status} ${answer.statusText}`.trim() + waitHint + (detail ? `: ${detail}` : ""),
        secrets,
      ),
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    throw new ProviderFailure(`it answered HTTP ${answer.status} with something other than JSON`);
  }
  const parsed = expect.schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ProviderFailure(
    `it answered JSON Sesame does not understand (${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"})`,
  );
}

/** The provider's own words about an error (PagerDuty and Opsgenie both use message/errors), shortened. */
function providerMessage(text: string): string {
  let words = text;
  try {
    const body = JSON.parse(text) as {
      message?: unknown;
      errors?: unknown;
      error?: { message?: unknown; errors?: unknown };
    };
    const source = typeof body.error === "object" && body.error !== null ? body.error : body;
    words = [source.message, ...(Array.isArray(source.errors) ? source.errors : [])]
      .filter((part) => typeof part === "string")
      .join("; ");
  } catch {
    // Not JSON (a proxy's HTML page, say): its start is still a clue.
  }
  const oneLine = words.replace(/\s+/g, " ").trim();
  return truncate(oneLine, 200);
}
