import { AppError } from "../../domain/errors.js";
import type { GrantReceipt } from "../connector.js";
import { countClients, getUser, type RedisSession } from "./redis-session.js";

/**
 * Mode `enable-user`: the operator defines an ACL user per principal, `off` while no grant is
 * active; a grant switches it `on`, a revoke switches it `off` and closes its connections (`off`
 * alone only stops new logins). The user belongs to Sesame's schedule: revoke switches it off even
 * if it was already on before the grant, because a retried grant cannot be told apart from that.
 */

export async function enableUser(session: RedisSession, user: string): Promise<GrantReceipt> {
  const existing = await getUser(session, user);
  // Without this check ACL SETUSER would quietly create the user.
  if (existing === undefined) {
    throw new AppError(
      "connector_failed",
      `The ACL user "${user}" does not exist on the Redis server. Define it (switched off, e.g. ACL SETUSER ${user} off >password +@read ~*), or fix the identity mapping.`,
    );
  }
  // Switching on a user without a password would let anyone who reaches the server in, not just the requester.
  if (existing.flags.includes("nopass")) {
    throw new AppError(
      "connector_failed",
      `The ACL user "${user}" has nopass: switching it on would open it to everyone. Give it a password (ACL SETUSER ${user} resetpass >…).`,
    );
  }
  const wasEnabled = existing.flags.includes("on");
  if (!wasEnabled) await session.call("ACL", "SETUSER", user, "on");
  return { data: { mode: "enable-user", user, wasEnabled } };
}

/** Switches the user off and closes its connections. True when there was access to take away (it was on, or had connections). */
export async function disableUser(session: RedisSession, user: string): Promise<boolean> {
  const existing = await getUser(session, user);
  if (existing === undefined) return false;
  // Block new logins first, so nothing can reconnect between the kill and the switch.
  await session.call("ACL", "SETUSER", user, "off");
  const killed = await session.call("CLIENT", "KILL", "USER", user).catch((error: unknown) => {
    // Deleted in between: its connections are closed already.
    if (!/no such user/i.test(String((error as Error).message))) throw error;
    return 0;
  });
  return existing.flags.includes("on") || Number(killed) > 0;
}

/** True when the user is gone or off and no connection of it is left. */
export async function userDisabled(session: RedisSession, user: string): Promise<boolean> {
  const existing = await getUser(session, user);
  if (existing?.flags.includes("on") === true) return false;
  return (await countClients(session, user)) === 0;
}
