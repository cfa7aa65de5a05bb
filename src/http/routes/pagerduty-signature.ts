import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * PagerDuty Webhooks v3 sign the raw body: `X-PagerDuty-Signature: v1=<hex HMAC-SHA256>`, with
 * several comma-separated `v1=` signatures while a secret is being rotated. Valid when any matches.
 */
export function pagerDutySignatureValid(secret: string, header: string | string[] | undefined, raw: Buffer): boolean {
  if (typeof header !== "string" || header === "") return false;
  const expected = Buffer.from(`v1=${createHmac("sha256", secret).update(raw).digest("hex")}`);
  return header
    .split(",")
    .map((part) => Buffer.from(part.trim()))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
}
