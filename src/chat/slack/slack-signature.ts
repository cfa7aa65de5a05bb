import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Slack's request signature (v0): HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the app's
 * signing secret. Checked before any handler runs. Bolt only refuses old timestamps; a replay
 * window must be closed in both directions, so a timestamp more than five minutes away from now
 * either way is refused too.
 */

export const MAX_CLOCK_SKEW_SECONDS = 300;

export interface SignedRequest {
  signingSecret: string;
  /** `X-Slack-Request-Timestamp` (seconds since the epoch, as sent). */
  timestamp: string | undefined;
  /** `X-Slack-Signature`, e.g. `v0=a2114d57…`. */
  signature: string | undefined;
  rawBody: string;
}

export type SignatureVerdict = { ok: true } | { ok: false; reason: string; stale?: true };

/**
 * The HTTP answer to a refused request. A timestamp outside the window is not called "not signed":
 * when Slack really sent it, Sesame's clock is wrong, and that is what the operator must fix.
 */
export function refusalMessage(verdict: Extract<SignatureVerdict, { ok: false }>): string {
  return verdict.stale
    ? `This request's X-Slack-Request-Timestamp is stale: ${verdict.reason.replace(/^timestamp /, "it ")}. Slack requests are refused outside that window to stop replays; if Slack sent it, check this server's clock (NTP).`
    : "This request is not signed by Slack with this app's signing secret.";
}

export function slackSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac("sha256", signingSecret).update(`v0:${timestamp}:${rawBody}`).digest("hex")}`;
}

export function verifySlackSignature(request: SignedRequest, now: () => Date = () => new Date()): SignatureVerdict {
  const { timestamp, signature } = request;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: "missing or malformed X-Slack-Request-Timestamp" };
  if (!signature?.startsWith("v0=")) return { ok: false, reason: "missing or malformed X-Slack-Signature" };
  const skew = Math.abs(Math.floor(now().getTime() / 1000) - Number(timestamp));
  if (skew > MAX_CLOCK_SKEW_SECONDS)
    return {
      ok: false,
      stale: true,
      reason: `timestamp is ${skew} s away from Sesame's clock (more than ${MAX_CLOCK_SKEW_SECONDS} s)`,
    };
  const expected = Buffer.from(slackSignature(request.signingSecret, timestamp, request.rawBody));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: "signature does not match" };
  return { ok: true };
}
