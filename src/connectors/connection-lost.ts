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
