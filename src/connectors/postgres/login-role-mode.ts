import { AppError } from "../../domain/errors.js";
import type { GrantReceipt } from "../connector.js";
import type { LoginRoleTarget } from "./postgres-config.js";
import { findRole, ident, inTransaction, literal, type Queryable, terminateSessions } from "./role-sql.js";
import { generatePassword, scramSha256Verifier } from "./scram-verifier.js";

/**
 * Mode `login-role`: a temporary LOGIN role named after the principal, with a generated password
 * valid until the grant expires. The role's comment marks which grant created it; that marker is
 * how a retried grant recognises its own role, and how Sesame refuses to take over (or drop) a
 * role it did not create.
 */

const grantMarker = (grantId: string): string =>
  `Sesame temporary login role for grant ${grantId}; dropped when the grant ends.`;

export interface LoginRoleGrant {
  grantId: string;
  principal: string;
  expiresAt: Date;
}

export async function grantLoginRole(
  client: Queryable,
  target: LoginRoleTarget,
  grant: LoginRoleGrant,
): Promise<GrantReceipt> {
  const password = generatePassword();
  const validUntil = grant.expiresAt.toISOString();
  const role = ident(grant.principal);
  await inTransaction(client, async () => {
    const existing = await findRole(client, grant.principal);
    if (existing !== undefined && existing.comment !== grantMarker(grant.grantId)) {
      throw new AppError(
        "connector_failed",
        `A role named "${grant.principal}" already exists on the target and was not created by Sesame for this grant, so Sesame will not take it over. Use a membership target for existing roles, or wait until the other grant of this principal ends.`,
      );
    }
    // A retry re-arms the role it created the first time with a fresh password (the first one may be lost).
    const options = `LOGIN PASSWORD ${literal(scramSha256Verifier(password))} VALID UNTIL ${literal(validUntil)} CONNECTION LIMIT ${target.connectionLimit ?? -1}`;
    await client.query(
      existing === undefined ? `CREATE ROLE ${role} WITH ${options}` : `ALTER ROLE ${role} WITH ${options}`,
    );
    await client.query(`COMMENT ON ROLE ${role} IS ${literal(grantMarker(grant.grantId))}`);
    for (const memberOf of target.memberOf) await client.query(`GRANT ${ident(memberOf)} TO ${role}`);
  });
  return {
    data: { mode: "login-role", role: grant.principal, memberOf: target.memberOf, validUntil },
    secret: { password },
  };
}

/** The role this grant created, if it still exists; a same-named role of anyone else is left alone. */
async function ownRole(client: Queryable, grantId: string, principal: string) {
  const role = await findRole(client, principal);
  return role !== undefined && role.comment === grantMarker(grantId) ? role : undefined;
}

/** Moves VALID UNTIL of the role this grant created; a role already locked or gone stays so. */
export async function extendLoginRole(
  client: Queryable,
  grant: LoginRoleGrant,
  receipt: Record<string, unknown> | null,
): Promise<GrantReceipt | void> {
  const role = await ownRole(client, grant.grantId, grant.principal);
  if (role === undefined || !role.canLogin) return;
  const validUntil = grant.expiresAt.toISOString();
  await client.query(`ALTER ROLE ${ident(grant.principal)} VALID UNTIL ${literal(validUntil)}`);
  return { data: { ...(receipt ?? { mode: "login-role", role: grant.principal }), validUntil } };
}

export async function revokeLoginRole(client: Queryable, grantId: string, principal: string): Promise<void> {
  if ((await ownRole(client, grantId, principal)) === undefined) return;
  const role = ident(principal);
  // Block new logins before ending sessions, so nothing can reconnect in between.
  await client.query(`ALTER ROLE ${role} WITH NOLOGIN PASSWORD NULL`);
  await terminateSessions(client, principal);
  try {
    await client.query(`DROP ROLE ${role}`);
  } catch (error) {
    if ((error as { code?: unknown }).code !== "2BP01") throw error;
    // The role owns objects (someone created tables as it): keep it, locked and without memberships.
    await revokeAllMemberships(client, principal);
  }
}

async function revokeAllMemberships(client: Queryable, principal: string): Promise<void> {
  const result = await client.query<{ rolname: string }>(
    `SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1)`,
    [principal],
  );
  for (const { rolname } of result.rows) await client.query(`REVOKE ${ident(rolname)} FROM ${ident(principal)}`);
}

/** True when the role this grant created is gone or can no longer log in. */
export async function loginRoleRevoked(client: Queryable, grantId: string, principal: string): Promise<boolean> {
  const role = await ownRole(client, grantId, principal);
  return role === undefined || !role.canLogin;
}
