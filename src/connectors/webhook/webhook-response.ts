import type { GrantReceipt } from "../connector.js";
import { redactSecrets } from "../redact.js";
import type { HttpResponse } from "./webhook-transport.js";

/** Reading the receiver's answers: what a grant returned, whether a revoke or a status says "gone". */

/** The stored receipt stays small: it is shown to admins and sent back with the revoke. */
export const MAX_RECEIPT_BYTES = 8 * 1024;

export const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/** The answer as a JSON object; null for an empty, non-JSON or non-object answer (all fine for a webhook). */
export function jsonObject(response: HttpResponse): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(response.body.toString("utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * A 2xx grant answer becomes `{ status, response }`. Its `secret` member holds credentials for the
 * requester: they go to the encrypted receipt secret only, and are redacted from everything else.
 */
export function grantReceipt(response: HttpResponse, secrets: readonly string[]): GrantReceipt {
  const answer = jsonObject(response);
  const { secret, ...rest } = answer ?? {};
  const credentials = secret === undefined || secret === null ? undefined : credentialsOf(secret);
  const stored = redactJson(rest, [...secrets, ...Object.values(credentials ?? {})]);
  const size = Buffer.byteLength(JSON.stringify(stored));
  const data: Record<string, unknown> =
    answer === null ? { status: response.status, response: null }
    : size <= MAX_RECEIPT_BYTES ? { status: response.status, response: stored }
    : { status: response.status, response: null, responseOmitted: `${size} bytes, more than ${MAX_RECEIPT_BYTES}` };
  return credentials === undefined ? { data } : { data, secret: credentials };
}

/** GrantReceipt.secret holds strings: other values are kept as JSON text rather than lost. */
function credentialsOf(secret: unknown): Record<string, string> {
  const text = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));
  if (typeof secret !== "object" || secret === null || Array.isArray(secret)) return { secret: text(secret) };
  return Object.fromEntries(Object.entries(secret).map(([key, value]) => [key, text(value)]));
}

/** Redacts inside strings and keys only, so the JSON keeps its shape whatever the secrets look like. */
function redactJson(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === "string") return redactSecrets(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactJson(item, secrets));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [redactSecrets(key, secrets), redactJson(item, secrets)]));
  }
  return value;
}

/** 2xx means revoked, and so does 404/410 (the receiver has nothing to take away) — unless it says `revoked: false`. */
export function revokeAccepted(response: HttpResponse): boolean {
  if (response.status === 404 || response.status === 410) return true;
  return isSuccess(response.status) && jsonObject(response)?.revoked !== false;
}

/** The `active` flag of a 2xx status answer; undefined when the answer does not say. */
export function statusActive(response: HttpResponse): boolean | undefined {
  const active = isSuccess(response.status) ? jsonObject(response)?.active : undefined;
  return typeof active === "boolean" ? active : undefined;
}
