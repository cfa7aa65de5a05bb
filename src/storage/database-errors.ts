/**
 * Recognises "the database cannot serve us right now" in the shapes it reaches Sesame: a Prisma
 * error (P1001…, or P2010 around a raw query), the adapter's DriverAdapterError, or a bare `pg` /
 * socket error that Prisma passes through. The one place that knows these shapes, so the HTTP
 * layer can answer 503 and the outage log can tell an outage from an ordinary failed query.
 */

/** Prisma's codes for "no connection": can't reach, timed out reaching, timed out, connection closed. */
const PRISMA_UNREACHABLE = new Set(["P1001", "P1002", "P1008", "P1017"]);
/** @prisma/adapter-pg's names for the same (`DriverAdapterError.cause.kind`). */
const ADAPTER_UNREACHABLE = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout"]);
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);
/** SQLSTATE: admin shutdown, crash shutdown, cannot connect now (the server is starting or stopping). */
const SERVER_GOING_AWAY = new Set(["57P01", "57P02", "57P03"]);
/** SQLSTATE class 08, connection exception: the server refused or dropped the connection. */
const CONNECTION_EXCEPTION = /^08[0-9A-Z]{3}$/;
/** `pg` and `pg-pool` throw these as plain Errors, without a code. */
const PG_MESSAGES = [
  /^Connection terminated/,
  /^Client has encountered a connection error and is not queryable/,
  /^Query read timeout/,
];

/** A transaction rolled back for running past its time (sql.ts): the database is slow, try again. */
export const TRANSACTION_TIMED_OUT = "transaction_timed_out";

/**
 * Busy rather than gone: every pooled connection stayed taken for the connect timeout (Prisma's
 * P2024, pg-pool's message), the server has no connection slot left (53300), or a transaction ran
 * past its time and was rolled back (TRANSACTION_TIMED_OUT). The request should be retried, but it is no outage: queries on the connections in use still succeed.
 */
const BUSY_CODES = new Set(["P2024", "53300", TRANSACTION_TIMED_OUT]);
const ADAPTER_BUSY = new Set(["TooManyConnections"]);
const PG_BUSY_MESSAGES = [/^timeout exceeded when trying to connect/];

/** What an error says about itself, read from the error and everything it wraps. */
interface Signs {
  code?: string;
  kind?: string;
  message?: string;
}

const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);

/** The error and what it wraps (`cause`, Prisma's `meta.driverAdapterError`), a few levels deep. */
function* signsOf(error: unknown): Generator<Signs> {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth += 1) {
    const fields = current as { code?: unknown; message?: unknown; kind?: unknown; cause?: unknown; meta?: unknown };
    yield { code: text(fields.code), kind: text(fields.kind), message: text(fields.message) };
    const adapterError = (fields.meta as { driverAdapterError?: { cause?: { kind?: unknown } } } | undefined)
      ?.driverAdapterError;
    if (adapterError) yield { kind: text(adapterError.cause?.kind) };
    current = fields.cause;
  }
}

const anySign = (error: unknown, test: (signs: Signs) => boolean): boolean => {
  for (const signs of signsOf(error)) if (test(signs)) return true;
  return false;
};

const UNREACHABLE_CODES = new Set([...PRISMA_UNREACHABLE, ...SOCKET_CODES, ...SERVER_GOING_AWAY]);

/** The database is gone or not answering: no connection could be made, or one died mid-query. */
export function isDatabaseUnreachable(error: unknown): boolean {
  return anySign(
    error,
    ({ code, kind, message }) =>
      (code !== undefined && (UNREACHABLE_CODES.has(code) || CONNECTION_EXCEPTION.test(code))) ||
      (kind !== undefined && ADAPTER_UNREACHABLE.has(kind)) ||
      (message !== undefined && PG_MESSAGES.some((pattern) => pattern.test(message))),
  );
}

/** Worth a 503 and a retry: unreachable, or too busy to give this request a connection. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return (
    isDatabaseUnreachable(error) ||
    anySign(
      error,
      ({ code, kind, message }) =>
        (code !== undefined && BUSY_CODES.has(code)) ||
        (kind !== undefined && ADAPTER_BUSY.has(kind)) ||
        (message !== undefined && PG_BUSY_MESSAGES.some((pattern) => pattern.test(message))),
    )
  );
}
