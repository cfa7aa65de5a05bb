import { createHmac, timingSafeEqual } from "node:crypto";
import type http from "node:http";

/**
 * Signing, both ways, with the shared secret. The timestamp is part of the signed text so a
 * captured message cannot be replayed later: both sides refuse timestamps more than 5 minutes
 * away from their clock. Sesame signs its requests; the receiver signs its answers, so that a
 * proxy, a default backend or anyone else on the path cannot answer "revoked" for it.
 */

export const USER_AGENT = "sesame-webhook/1";

/** How far a signed timestamp may be from our clock, in either direction. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<payload>")>`; the version prefix allows a future scheme. */
export function signature(secret: string, timestamp: number | string, payload: string | Buffer): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.`).update(payload).digest("hex")}`;
}

/**
 * Headers proving the request comes from Sesame. `payload` is the raw body of a POST, or the
 * grant id of a status GET (which has no body, but must not be replayable for another grant).
 */
export function signedHeaders(
  secret: string,
  event: string,
  payload: string,
  now: number = Date.now(),
): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    "User-Agent": USER_AGENT,
    "X-Sesame-Event": event,
    "X-Sesame-Timestamp": String(timestamp),
    "X-Sesame-Signature": signature(secret, timestamp, payload),
  };
}

/**
 * Checks the receiver's signature on its answer: `X-Sesame-Signature` over
 * `<X-Sesame-Timestamp>.<raw body>`. Undefined when it is valid; otherwise why not, worded to
 * follow "answered HTTP 200 OK".
 */
export function answerSignatureProblem(
  secret: string,
  headers: http.IncomingHttpHeaders,
  body: Buffer,
  now: number = Date.now(),
): string | undefined {
  const given = headers["x-sesame-signature"];
  if (typeof given !== "string" || given === "") return "without a signature (no X-Sesame-Signature header)";
  const timestamp = headers["x-sesame-timestamp"];
  if (typeof timestamp !== "string" || !/^\d{1,12}$/.test(timestamp))
    return "signed without a valid X-Sesame-Timestamp";
  if (Math.abs(now / 1000 - Number(timestamp)) > MAX_CLOCK_SKEW_SECONDS) {
    return `signed with a timestamp more than ${MAX_CLOCK_SKEW_SECONDS / 60} minutes away from Sesame's clock`;
  }
  const expected = Buffer.from(signature(secret, timestamp, body));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    return "with a signature that does not match (another secret, or the answer was changed on the way)";
  }
  return undefined;
}

/**
 * The same check on a signed request Sesame receives (`POST /events/:source`): senders sign
 * exactly as this connector signs, so there is one implementation of the scheme.
 */
export const signedMessageProblem = answerSignatureProblem;
