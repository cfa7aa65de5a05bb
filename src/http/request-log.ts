import type { FastifyRequest } from "fastify";

/**
 * What the request log says about a request. Fastify's default logs the whole URL, so an API token
 * someone put in the query string (`?token=…`, `?access_token=…`) ended up in the log; here every
 * query value is replaced unless it is one of the API's own filters, and anything shaped like a
 * Sesame token is replaced wherever it appears.
 */

/** The query parameters of Sesame's own routes (see api-schemas.ts): filters, never secrets. */
const PLAIN_QUERY_PARAMETERS = new Set([
  "status",
  "requester",
  "resource",
  "subject",
  "awaitingMe",
  "limit",
  "waitFor",
  "waitSeconds",
]);
const SESAME_TOKEN = /ses_[A-Za-z0-9_-]{16,}/g;
const REDACTED = "[redacted]";

export function redactedUrl(url: string): string {
  const at = url.indexOf("?");
  const path = (at < 0 ? url : url.slice(0, at)).replace(SESAME_TOKEN, REDACTED);
  if (at < 0) return path;
  const query = [...new URLSearchParams(url.slice(at + 1))].map(([name, value]) => {
    const shown = PLAIN_QUERY_PARAMETERS.has(name) ? value.replace(SESAME_TOKEN, REDACTED) : REDACTED;
    return `${encodeURIComponent(name)}=${shown === REDACTED ? REDACTED : encodeURIComponent(shown)}`;
  });
  return `${path}?${query.join("&")}`;
}

/** Fastify's `req` log serializer with the URL redacted (same fields as Fastify's own). */
export function requestLogFields(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactedUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
