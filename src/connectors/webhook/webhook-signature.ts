import { createHmac } from "node:crypto";

/**
 * Request signing. The timestamp is part of the signed text so a captured request cannot be
 * replayed later: receivers refuse timestamps more than 5 minutes away from their clock.
 */

export const USER_AGENT = "sesame-webhook/1";

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<payload>")>`; the version prefix allows a future scheme. */
export function signature(secret: string, timestamp: number, payload: string): string {
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${payload}`).digest("hex")}`;
}

/**
 * Headers proving the request comes from Sesame. `payload` is the raw body of a POST, or the
 * grant id of a status GET (which has no body, but must not be replayable for another grant).
 */
export function signedHeaders(secret: string, event: string, payload: string, now: number = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    "User-Agent": USER_AGENT,
    "X-Sesame-Event": event,
    "X-Sesame-Timestamp": String(timestamp),
    "X-Sesame-Signature": signature(secret, timestamp, payload),
  };
}
