import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "../../domain/errors.js";
import { errorCode } from "../redact.js";
import { type Queryable, select } from "./mysql-sql.js";

/** How long revoke waits for killed sessions to disappear. */
const KILL_WAIT_MS = 5_000;
const POLL_MS = 50;

/**
 * Ends every session of user `user` (any host). An open session keeps an active role and the
 * privileges of its current database after a REVOKE; only ending it takes them away. The process
 * list shows the user name but not which account (host pattern) a session logged in as.
 */
export async function endSessions(client: Queryable, user: string): Promise<number> {
  const ids = (
    await select<{ id: number }>(
      client,
      "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()",
      [user],
    )
  ).map((row) => row.id);
  if (ids.length === 0) return 0;
  for (const id of ids) {
    try {
      await client.query("KILL CONNECTION ?", [id]);
    } catch (error) {
      // The session ended by itself between the list and the KILL.
      if (errorCode(error) !== "ER_NO_SUCH_THREAD") throw error;
    }
  }
  // KILL only flags the thread; it ends at its next check, usually within milliseconds.
  const deadline = Date.now() + KILL_WAIT_MS;
  for (;;) {
    const alive = await select(client, "SELECT ID FROM information_schema.PROCESSLIST WHERE ID IN (?)", [ids]);
    if (alive.length === 0) return ids.length;
    if (Date.now() > deadline) {
      throw new AppError(
        "connector_failed",
        `${alive.length} session(s) of user "${user}" did not end within ${KILL_WAIT_MS / 1000}s; the revoke will be retried.`,
      );
    }
    await sleep(POLL_MS);
  }
}
