import type { GrantReceipt } from "../connector.js";
import { redactSecrets } from "../redact.js";
import { MAX_BODY_BYTES } from "./webhook-retry.js";
import { answerSignatureProblem } from "./webhook-signature.js";
import type { HttpResponse } from "./webhook-transport.js";

/** Reading the receiver's answers: what a grant returned, whether a revoke or a status confirms "gone" for this grant. */

/** The stored receipt stays small: it is shown to admins and sent back with the revoke. */
export const MAX_RECEIPT_BYTES = 8 * 1024;

export const isSuccess = (status: number): boolean => status >= 200 && status < 300;

/** The answer as a JSON object; null for an empty, non-JSON or non-object answer (all fine for a webhook). */
export function jsonObject(response: HttpResponse): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(response.body.toString("utf8"));
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
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
    answer === null
      ? { status: response.status, response: null }
      : size <= MAX_RECEIPT_BYTES
        ? { status: response.status, response: stored }
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
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [redactSecrets(key, secrets), redactJson(item, secrets)]),
    );
  }
  return value;
}

/**
 * Why an answer does not confirm what Sesame asked: a clause that follows "answered HTTP 200 OK"
 * in messages, and whether it is about the signature (the hint differs).
 */
export interface Unconfirmed {
  clause: string;
  signature: boolean;
}

/** Statuses a revoke may be confirmed with: 2xx, or 404/410 when the receiver has nothing left to take away. */
export const isRevokeStatus = (status: number): boolean => isSuccess(status) || status === 404 || status === 410;

/** The member an answer names what it is about with: the grant of a revoke or status, the run of an action. */
export interface AnswerSubject {
  field: "grantId" | "runId";
  id: string;
}

/**
 * The receiver's JSON answer about this grant (or run), or why it is not one: signed (when `secret`
 * is given, i.e. requireSignedResponses) and naming the grant in `grantId`. Anything on the path
 * can answer a status code; only the receiver can sign, and only an answer naming the grant is
 * about it (a signed answer for another one cannot be replayed for this one).
 */
export function answerAbout(
  response: HttpResponse,
  subject: AnswerSubject,
  secret: string | undefined,
  now: number = Date.now(),
): { answer: Record<string, unknown> } | { unconfirmed: Unconfirmed } {
  if (response.truncated)
    return { unconfirmed: { clause: `with an answer larger than ${MAX_BODY_BYTES / 1024} KB`, signature: false } };
  if (secret !== undefined) {
    const problem = answerSignatureProblem(secret, response.headers, response.body, now);
    if (problem !== undefined) return { unconfirmed: { clause: problem, signature: true } };
  }
  const answer = jsonObject(response);
  if (answer === null) return { unconfirmed: { clause: "with an answer that is not a JSON object", signature: false } };
  if (answer[subject.field] !== subject.id)
    return {
      unconfirmed: {
        clause: `with an answer whose "${subject.field}" is not ${JSON.stringify(subject.id)}`,
        signature: false,
      },
    };
  return { answer };
}

/**
 * Whether a revoke answer (status already checked with isRevokeStatus) confirms the revoke:
 * `{"grantId": "<id>", "revoked": true}`, signed. Undefined when it does, otherwise why not.
 */
export function revokeUnconfirmed(
  response: HttpResponse,
  grantId: string,
  secret: string | undefined,
  now: number = Date.now(),
): Unconfirmed | undefined {
  const about = answerAbout(response, { field: "grantId", id: grantId }, secret, now);
  if ("unconfirmed" in about) return about.unconfirmed;
  return about.answer.revoked === true
    ? undefined
    : { clause: `with an answer that does not say "revoked": true`, signature: false };
}

/** The `active` flag of a 2xx status answer `{"grantId": "<id>", "active": true|false}`, signed; or why there is none. */
export function statusAnswer(
  response: HttpResponse,
  grantId: string,
  secret: string | undefined,
  now: number = Date.now(),
): { active: boolean } | { unconfirmed: Unconfirmed } {
  const about = answerAbout(response, { field: "grantId", id: grantId }, secret, now);
  if ("unconfirmed" in about) return about;
  const { active } = about.answer;
  return typeof active === "boolean"
    ? { active }
    : { unconfirmed: { clause: `with an answer without "active": true or false`, signature: false } };
}
