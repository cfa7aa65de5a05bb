import { z } from "zod";
import { credentialsDecodeCleanly } from "../url-credentials.js";

/** Connector config and resource targets of the `webhook` connector (see README.md). */

const HttpUrlSchema = z
  .string()
  .refine(
    (url) => URL.canParse(url) && ["http:", "https:"].includes(new URL(url).protocol),
    "must be an http:// or https:// URL",
  )
  .refine(
    (url) => !URL.canParse(url) || credentialsDecodeCleanly(new URL(url)),
    "percent-encode special characters in the user and password",
  );

/** RFC 9110 token characters: anything else cannot be a header name. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible characters, space and tab: a CR or LF would let a value inject further headers. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Headers Sesame sets itself, and credentials (the policy file is not a place for secrets). */
const RESERVED_HEADER =
  /^(content-type|content-length|transfer-encoding|host|connection|user-agent|idempotency-key|x-sesame-.*|authorization|proxy-authorization|cookie)$/i;

const HeadersSchema = z
  .record(z.string(), z.string().regex(HEADER_VALUE, "must not contain line breaks or control characters"))
  // Checked here rather than as the record's key schema, whose issues would not say what is wrong.
  .superRefine((headers, context) => {
    for (const name of Object.keys(headers)) {
      if (!HEADER_NAME.test(name))
        context.addIssue({ code: "custom", path: [name], message: "must be a valid HTTP header name" });
      else if (RESERVED_HEADER.test(name)) {
        const message =
          "is set by Sesame or would carry a credential; receivers authenticate Sesame by the X-Sesame-Signature header";
        context.addIssue({ code: "custom", path: [name], message });
      }
    }
  })
  .default({});

export const WebhookConfigSchema = z.strictObject({
  url: HttpUrlSchema.describe(
    "Receiver of grant, revoke and ping events; not a secret (a user:password in it is sent as basic auth and redacted)",
  ),
  secret: z
    .string()
    .min(32, "must be at least 32 characters long (e.g. openssl rand -hex 32)")
    .describe("HMAC-SHA256 key for X-Sesame-Signature; a secret, so give it as { env: VAR }"),
  headers: HeadersSchema.describe("Extra non-secret headers sent with every request"),
  timeoutSeconds: z.coerce
    .number()
    .positive()
    .max(300)
    .default(10)
    .describe("Per attempt, including reading the answer"),
  retries: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(3)
    .describe("Quick retries within one call for network errors, 408, 429 and 5xx"),
  statusUrl: HttpUrlSchema.optional().describe(
    "Optional: GET <statusUrl>?grantId=… answers { grantId, active }; enables post-revoke verification",
  ),
  requireSignedResponses: z
    .boolean()
    .default(true)
    .describe(
      "Accept revoke and status answers only when the receiver signed them (X-Sesame-Signature); turn off only for a receiver that cannot sign yet",
    ),
});
export type WebhookConfig = z.infer<typeof WebhookConfigSchema>;

/** Any JSON object: passed through to the receiver as `target`. */
export const WebhookTargetSchema = z.record(z.string(), z.json());
export type WebhookTarget = z.infer<typeof WebhookTargetSchema>;

/** The principal travels inside JSON, so only sanity limits apply. */
export const PrincipalSchema = z
  .string()
  .min(1, "must not be empty")
  .max(512, "must be at most 512 characters long")
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  .refine((principal) => !/[\x00-\x1f\x7f]/.test(principal), "must not contain control characters");

/** The grant id goes into the Idempotency-Key header: visible ASCII only. */
export const GrantIdSchema = z.string().regex(/^[\x21-\x7e]{1,200}$/, "must be 1-200 visible ASCII characters");
