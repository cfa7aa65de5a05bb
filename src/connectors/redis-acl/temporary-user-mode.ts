import { createHash, randomBytes } from "node:crypto";
import { AppError } from "../../domain/errors.js";
import type { GrantReceipt } from "../connector.js";
import type { TemporaryUserTarget } from "./redis-acl-config.js";
import { countClients, getUser, type RedisSession } from "./redis-session.js";

/**
 * Mode `temporary-user`: an ACL user named after the principal, with a generated password and the
 * target's rules, deleted on revoke (ACL DELUSER also closes its connections).
 *
 * Redis keeps no comment on a user, so the user carries a selector that grants nothing (it allows
 * no command) and whose key pattern names the grant: `(~sesame-grant:<id> resetchannels -@all)`.
 * That marker is how a retried grant recognises its own user, and how Sesame refuses to take
 * over (or delete) a user it did not create.
 */

const SAFE_GRANT_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

/** The marker's key pattern; grant ids with glob or other special characters are hashed. */
function grantMarker(grantId: string): string {
  const id = SAFE_GRANT_ID.test(grantId) ? grantId : `sha256-${createHash("sha256").update(grantId).digest("hex")}`;
  return `~sesame-grant:${id}`;
}

/** A random password that needs no quoting anywhere (URL-safe base64, 192 bits). */
export function generatePassword(): string {
  return randomBytes(24).toString("base64url");
}

export async function createTemporaryUser(
  session: RedisSession,
  target: TemporaryUserTarget,
  grant: { grantId: string; user: string; password: string },
): Promise<GrantReceipt> {
  const existing = await getUser(session, grant.user);
  if (existing !== undefined && !existing.selectorKeys.includes(grantMarker(grant.grantId))) {
    throw new AppError(
      "connector_failed",
      `An ACL user named "${grant.user}" already exists on the Redis server and was not created by Sesame for this grant, so Sesame will not take it over. Use an enable-user target for existing users, or wait until the other grant of this principal ends.`,
    );
  }
  // One command, so the user never exists half-configured. `reset` makes a retry re-arm the user
  // it created the first time with a fresh password (the first may never have reached the requester).
  // Only the password's SHA-256 (`#`) is sent: the password itself never reaches the server or a proxy's logs.
  const passwordHash = createHash("sha256").update(grant.password).digest("hex");
  // `resetchannels` because `reset` grants every channel on servers with acl-pubsub-default allchannels.
  const marker = `(${grantMarker(grant.grantId)} resetchannels -@all)`;
  await session.call(
    "ACL",
    "SETUSER",
    grant.user,
    "reset",
    "resetchannels",
    ...target.rules,
    `#${passwordHash}`,
    marker,
    "on",
  );
  return {
    data: { mode: "temporary-user", user: grant.user, rules: target.rules },
    secret: { password: grant.password },
  };
}

/** True when `user` exists and carries this grant's marker. */
async function ownUserExists(session: RedisSession, grantId: string, user: string): Promise<boolean> {
  const existing = await getUser(session, user);
  return existing?.selectorKeys.includes(grantMarker(grantId)) ?? false;
}

/** Deletes the user this grant created. True when it existed. */
export async function deleteTemporaryUser(session: RedisSession, grantId: string, user: string): Promise<boolean> {
  // A same-named user of anyone else (or of another grant) is left alone.
  if (!(await ownUserExists(session, grantId, user))) return false;
  await session.call("ACL", "DELUSER", user);
  return true;
}

/** True when the user this grant created is gone and no connection authenticated as it is left. */
export async function temporaryUserDeleted(session: RedisSession, grantId: string, user: string): Promise<boolean> {
  const existing = await getUser(session, user);
  if (existing !== undefined) return !existing.selectorKeys.includes(grantMarker(grantId));
  // ACL DELUSER closes the user's connections asynchronously; make sure none is still listed.
  return (await countClients(session, user)) === 0;
}
