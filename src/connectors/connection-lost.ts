/**
 * Words for a connection to the target that was up and went away mid-call (a reset, a restart or
 * failover, a session ended by an administrator), as opposed to one that never came up. Whether the lost call changed the target is unknown, and need not be: connectors
 * are idempotent per grant id, so the retry completes whatever it started.
 */

/** Socket error codes of a connection lost after it was established. */
export const CONNECTION_LOST_CODES: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);

/** `server` names the other side, e.g. "PostgreSQL", "the Redis server". */
export function connectionLostHint(server: string): string {
  return `The connection to ${server} was lost mid-call (a restart or failover, an ended session, or the network); retry: the retry completes whatever the lost call started. If it keeps happening, check ${server}'s log and the network between Sesame and it.`;
}

/** The error and its causes, outermost first (fetch nests the socket error two levels down). */
function causeChain(error: unknown): { name?: unknown; code?: unknown }[] {
  const links: { name?: unknown; code?: unknown }[] = [];
  for (let current: unknown = error; typeof current === "object" && current !== null && links.length < 6; ) {
    links.push(current as { name?: unknown; code?: unknown });
    current = (current as { cause?: unknown }).cause;
  }
  return links;
}

/** The first socket-level code (ECONNRESET, UND_ERR_SOCKET, ...) on the error or its causes. */
export function socketCodeOf(error: unknown): string | undefined {
  return causeChain(error)
    .map((link) => link.code)
    .find((code): code is string => typeof code === "string" && /^[A-Z][A-Z0-9_]+$/.test(code));
}

/** The call was aborted or timed out (an AbortError or TimeoutError on the error or its causes). */
export function isAbortOrTimeout(error: unknown): boolean {
  return causeChain(error).some((link) =>
    [link.name, link.code].some((tag) => tag === "AbortError" || tag === "TimeoutError"),
  );
}
