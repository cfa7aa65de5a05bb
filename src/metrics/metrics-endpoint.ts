import { createHash, timingSafeEqual } from "node:crypto";

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * Whether a scrape may read /metrics: always when no SESAME_METRICS_TOKEN is set, else only with
 * `Authorization: Bearer <token>`. Compared as digests in constant time, whatever the lengths.
 */
export function scrapeAllowed(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  const match = /^Bearer (.+)$/i.exec(authorization ?? "");
  if (!match) return false;
  return timingSafeEqual(digest(match[1]!.trim()), digest(token));
}

export const UNAUTHORIZED_BODY = JSON.stringify({
  error: { code: "unauthorized", message: "Scraping /metrics needs Authorization: Bearer <SESAME_METRICS_TOKEN>." },
});
