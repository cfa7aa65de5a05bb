import { isIPv4, isIPv6 } from "node:net";
import type { WebhookConfig } from "./webhook-config.js";
import { type Outcome, sendWithRetries } from "./webhook-retry.js";
import { signedHeaders } from "./webhook-signature.js";
import { createTransport, type Transport } from "./webhook-transport.js";

/** Signed requests to the receiver: events as POSTs to `url`, grant status as GETs to `statusUrl`. */

export type WebhookEvent = "grant" | "revoke" | "ping" | "action.run";

/** Per-call overrides: an action waits as long as its runner may run, and reads a bigger result. */
export interface CallOptions {
  timeoutMs?: number;
  maxBodyBytes?: number;
}

/** How a URL appears in messages: no user:password, no query (either may hold a token). */
export const displayUrl = (url: URL): string => `${url.origin}${url.pathname}`;

/**
 * Whether a URL's host is this machine (localhost, 127.0.0.0/8, ::1): plain http:// is fine there;
 * anywhere else events, grant answers (with any credentials in them) and basic auth cross a network
 * unencrypted. `hostname` as URL gives it (IPv6 in brackets, IPv4 normalised).
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1")
    .replace(/\.$/, "");
  if (host === "localhost") return true; // not *.localhost: a resolver may send those to DNS
  if (isIPv4(host)) return host.startsWith("127.");
  if (isIPv6(host))
    return host === "::1" || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host) || /^::ffff:127\./.test(host);
  return false;
}

/** The user:password of a (validated) URL, for redaction: Node sends it as basic auth; it must never be printed. */
export function userinfoSecrets(raw: string): string[] {
  const url = new URL(raw);
  return [url.password, decodeURIComponent(url.password), `${url.username}:${url.password}`].filter(
    (value) => value !== "" && value !== ":",
  );
}

export class WebhookClient {
  readonly #config: WebhookConfig;
  readonly #transport: Transport = createTransport();
  readonly #timeoutMs: number;
  readonly #sleep: ((ms: number) => Promise<void>) | undefined;

  /** `sleep` waits between quick retries; tests pass one that records instead of waiting. */
  constructor(config: WebhookConfig, sleep?: (ms: number) => Promise<void>) {
    this.#config = config;
    this.#timeoutMs = config.timeoutSeconds * 1000;
    this.#sleep = sleep;
  }

  /** `fields` form the body with `event` and `sentAt`; the body is rebuilt and re-signed per attempt. */
  post(
    event: WebhookEvent,
    fields: Record<string, unknown>,
    idempotencyKey: string,
    retries: number,
    options: CallOptions = {},
  ): Promise<Outcome> {
    return sendWithRetries(
      this.#transport,
      () => {
        const body = JSON.stringify({ event, ...fields, sentAt: new Date().toISOString() });
        const headers = {
          ...this.#config.headers,
          "Content-Type": "application/json",
          Accept: "application/json",
          "Idempotency-Key": idempotencyKey,
          ...signedHeaders(this.#config.secret, event, body),
        };
        return { method: "POST", url: new URL(this.#config.url), headers, body };
      },
      {
        retries,
        timeoutMs: options.timeoutMs ?? this.#timeoutMs,
        sleep: this.#sleep,
        maxBodyBytes: options.maxBodyBytes,
      },
    );
  }

  /** GET <statusUrl>?grantId=…, signed over the grant id since there is no body. */
  status(statusUrl: string, grantId: string, retries: number): Promise<Outcome> {
    const url = new URL(statusUrl);
    url.searchParams.set("grantId", grantId);
    return sendWithRetries(
      this.#transport,
      () => ({
        method: "GET",
        url,
        headers: {
          ...this.#config.headers,
          Accept: "application/json",
          ...signedHeaders(this.#config.secret, "status", grantId),
        },
      }),
      { retries, timeoutMs: this.#timeoutMs, sleep: this.#sleep },
    );
  }

  close(): void {
    this.#transport.close();
  }
}
