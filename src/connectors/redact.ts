import { AppError } from "../domain/errors.js";

/**
 * Connectors talk to drivers whose errors may echo a connection string or a password. Every text
 * that leaves a connector (errors, check problems) goes through here first (invariant 8).
 */

export const REDACTED = "[redacted]";

// The password part of `scheme://user:password@host`, even for secrets we were never told about.
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)[^\s@]*@/gi;

/** The spellings a secret can take in driver output: raw, URL-encoded, JSON-escaped, and a URL's password. */
export function secretVariants(secret: string): string[] {
  const variants = new Set<string>([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]);
  if (URL.canParse(secret)) {
    const password = new URL(secret).password;
    if (password !== "") {
      variants.add(password);
      variants.add(safeDecode(password));
    }
  }
  return [...variants].filter((variant) => variant !== "");
}

/** Replaces every known secret (in any spelling) and every URL-embedded password in `text`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  // Longest first, so a URL is replaced whole before its password would cut it apart.
  const variants = [...new Set(secrets.flatMap(secretVariants))].sort((a, b) => b.length - a.length);
  let result = text;
  for (const variant of variants) result = result.split(variant).join(REDACTED);
  return result.replace(URL_PASSWORD, `$1${REDACTED}@`);
}

/** A one-line description of anything thrown by a driver, redacted. */
export function describeError(error: unknown, secrets: readonly string[]): string {
  return redactSecrets(rawDescription(error), secrets);
}

export interface ConnectorErrorOptions {
  /** The configured connector name, e.g. "prod-db". */
  connector: string;
  /** What was being done, as a verb phrase: "grant access", "revoke access". */
  action: string;
  secrets: readonly string[];
  /** What the operator should do next. */
  hint: string;
}

/**
 * Wraps a thrown driver error into AppError("connector_failed"). The original error is not kept
 * as `cause`: loggers serialize causes, and a driver error may carry the secret in any property.
 */
export function toConnectorError(error: unknown, options: ConnectorErrorOptions): AppError {
  const { connector, action, secrets } = options;
  if (error instanceof AppError) {
    // Raised by the connector itself: its user message already says what to do.
    const reason = redactSecrets(error.userMessage, secrets);
    return new AppError(error.code, `Connector "${connector}" could not ${action}: ${reason}`, {
      internal: `connector ${connector}: ${action} failed: ${redactSecrets(error.message, secrets)}`,
      details: { ...redactDetails(error.details, secrets), connector, action },
    });
  }
  const reason = describeError(error, secrets);
  const code = errorCode(error);
  return new AppError("connector_failed", `Connector "${connector}" could not ${action}: ${reason}. ${options.hint}`, {
    internal: `connector ${connector}: ${action} failed: ${reason}`,
    details: { connector, action, ...(code === undefined ? {} : { driverCode: code }) },
  });
}

function redactDetails(
  details: Record<string, unknown> | undefined,
  secrets: readonly string[],
): Record<string, unknown> {
  return details === undefined
    ? {}
    : (JSON.parse(redactSecrets(JSON.stringify(details), secrets)) as Record<string, unknown>);
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function rawDescription(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") {
    // Node's happy-eyeballs connect failures arrive as an AggregateError with an empty message.
    return error.errors.map(rawDescription).join("; ") || "connection failed";
  }
  if (error instanceof Error) return error.message || errorCode(error) || error.name;
  return String(error);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The two ways a connector over an HTTP API reports a failure, from its own description and hint:
 * as the error a grant or revoke throws (with the HTTP status in its details), and as a line of
 * `check()`. An AppError the connector threw itself keeps its message.
 */
export function apiErrorReporting(api: {
  describe(error: unknown, secrets: readonly string[]): string;
  hint(error: unknown): string;
  httpStatus(error: unknown): number | undefined;
}) {
  return {
    toError(error: unknown, connector: string, action: string, secrets: readonly string[]): AppError {
      if (error instanceof AppError) return toConnectorError(error, { connector, action, secrets, hint: "" });
      const status = api.httpStatus(error);
      return toConnectorError(
        new AppError("connector_failed", `${api.describe(error, secrets)}. ${api.hint(error)}`, {
          details: status === undefined ? {} : { httpStatus: status },
        }),
        { connector, action, secrets, hint: "" },
      );
    },
    problem(prefix: string, error: unknown, secrets: readonly string[]): string {
      if (error instanceof AppError) return `${prefix}: ${error.userMessage}`;
      return `${prefix}: ${api.describe(error, secrets)}. ${api.hint(error)}`;
    },
  };
}
