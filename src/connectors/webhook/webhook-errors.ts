import { AppError } from "../../domain/errors.js";
import { CONNECTION_LOST_CODES, connectionLostHint } from "../connection-lost.js";
import { redactSecrets, toConnectorError } from "../redact.js";
import type { Unconfirmed } from "./webhook-response.js";
import { MAX_RETRY_AFTER_SECONDS, type Outcome, retryAfterSeconds } from "./webhook-retry.js";
import type { HttpResponse, TransportError } from "./webhook-transport.js";

/** Turns what the receiver did (or did not) answer into words an operator can act on. */

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
};

export interface Where {
  /** The receiver's URL without user:password and query, e.g. "https://hooks.example.com/sesame". */
  display: string;
  timeoutSeconds: number;
  /** What the other side is called in messages: "receiver" unless it is an action "runner". */
  party?: string;
}

const who = (where: Where): string => `the ${where.party ?? "receiver"} at ${where.display}`;

/** One sentence on what went wrong, then what to do; `expected` names the statuses that would have been fine. */
export function describeOutcome(outcome: Outcome, where: Where, expected = "2xx"): { reason: string; hint: string } {
  const after = outcome.attempts > 1 ? ` (after ${outcome.attempts} attempts)` : "";
  if ("error" in outcome) {
    const problem = describeTransport(outcome.error, where);
    return { ...problem, reason: `${problem.reason}${after}` };
  }
  const { response } = outcome;
  const reason = `${who(where)} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${after}${excerpt(response)}`;
  return { reason, hint: statusHint(response, expected) };
}

/**
 * An answer with an acceptable status that still does not confirm what Sesame asked (unsigned,
 * about another grant, not saying "revoked": true, …).
 */
export function describeUnconfirmed(
  outcome: { response: HttpResponse; attempts: number },
  where: Where,
  unconfirmed: Unconfirmed,
  expected: string,
): { reason: string; hint: string } {
  const { response } = outcome;
  const after = outcome.attempts > 1 ? ` (after ${outcome.attempts} attempts)` : "";
  const reason = `${who(where)} answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${after} ${unconfirmed.clause}${excerpt(response)}`;
  return { reason, hint: unconfirmedHint(response.status, unconfirmed, expected) };
}

function unconfirmedHint(status: number, unconfirmed: Unconfirmed, expected: string): string {
  if (unconfirmed.signature) {
    return (
      'Receivers must sign their answers (X-Sesame-Timestamp, and X-Sesame-Signature over "<timestamp>.<body>" with the shared secret; see the webhook connector\'s README): ' +
      "check that the receiver does, with the same secret and a correct clock, and that nothing on the way answers for it, then retry."
    );
  }
  if (status === 404 || status === 410) {
    return `A ${status} counts only when the receiver confirms it (expected ${expected}): check the connector's url, since a proxy or default backend may have answered, then retry.`;
  }
  return `The receiver answered, but not as expected (${expected}); see its answer and logs, then retry.`;
}

function describeTransport(error: TransportError, where: Where): { reason: string; hint: string } {
  switch (error.kind) {
    case "timeout":
      return {
        reason: `${who(where)} did not answer within ${where.timeoutSeconds} s`,
        hint: "Check that the receiver is up and answers quickly (or raise timeoutSeconds), then retry.",
      };
    case "tls":
      return {
        reason: `TLS with ${where.display} failed: ${opensslReason(error.message)}${error.code ? ` (${error.code})` : ""}`,
        hint: "Check that the url's scheme matches the receiver (https needs a certificate Node trusts; for a private CA set NODE_EXTRA_CA_CERTS), then retry.",
      };
    case "unreachable": {
      const words = (error.code !== undefined && SOCKET_ERRORS[error.code]) || error.message;
      if (error.code !== undefined && CONNECTION_LOST_CODES.has(error.code))
        return {
          reason: `${who(where)} did not complete its answer: ${words} (${error.code})`,
          hint: connectionLostHint("the receiver"),
        };
      return {
        reason: `cannot reach ${who(where)}: ${words}${error.code ? ` (${error.code})` : ""}`,
        hint: "Check the host and port in the connector's url and that the receiver is running and reachable from Sesame, then retry.",
      };
    }
  }
}

/** OpenSSL says "…:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:<source file>"; keep the words. */
function opensslReason(message: string): string {
  return /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? message;
}

function statusHint(response: HttpResponse, expected: string): string {
  const { status } = response;
  if (status === 401 || status === 403) {
    return "The receiver refused Sesame's signature: check that it verifies X-Sesame-Signature with the same secret, and that both clocks are right (timestamps more than 5 minutes off are refused).";
  }
  const retryAfter = retryAfterSeconds(response.headers["retry-after"]);
  if (retryAfter !== undefined && retryAfter > MAX_RETRY_AFTER_SECONDS)
    return `The receiver asked to retry after ${retryAfter} s; the job will be retried later.`;
  if (status >= 200 && status < 300)
    return `The receiver answered, but not as expected (${expected}); see its answer and logs, then retry.`;
  if (status >= 300 && status < 400)
    return "Sesame does not follow redirects (they would carry a signed request elsewhere); set the url to the final address.";
  if (status === 404 || status === 405) return "Check the connector's url: the receiver does not serve it.";
  if (status >= 500 || status === 408 || status === 429)
    return "The receiver is failing or overloaded; the job will be retried later.";
  return `The receiver rejected the request (expected ${expected}); see its answer and logs, fix the resource's target or the receiver, then retry.`;
}

/** The start of the receiver's answer: often the most useful part of the message. */
function excerpt(response: HttpResponse): string {
  const text = response.body
    .toString("utf8", 0, 300)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this strips
    .replace(/[\x00-\x1f\x7f\s]+/g, " ")
    .trim();
  if (text === "") return "";
  return `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

/** Every error of this connector goes out through toConnectorError, which redacts secrets. */
export function webhookError(
  connector: string,
  action: string,
  problem: { reason: string; hint: string },
  secrets: readonly string[],
): AppError {
  const inner = new AppError("connector_failed", `${problem.reason}. ${problem.hint}`);
  return toConnectorError(inner, { connector, action, secrets, hint: problem.hint });
}

/** A check() problem: same words, redacted. */
export function webhookProblem(
  prefix: string,
  problem: { reason: string; hint: string },
  secrets: readonly string[],
): string {
  return redactSecrets(`${prefix}: ${problem.reason}. ${problem.hint}`, secrets);
}
