import { AppError } from "../../domain/errors.js";
import type { GrantReceipt } from "../connector.js";
import type { MembershipTarget } from "./postgres-config.js";
import { ident, type Queryable, terminateSessions } from "./role-sql.js";

/**
 * Mode `membership`: GRANT an existing role to the principal's existing role, REVOKE it later.
 * A membership the principal already had before Sesame's grant (`preexisting`) is never revoked:
 * Sesame only takes away what it gave.
 */

interface MembershipState {
  roleExists: boolean;
  principalExists: boolean;
  /** Direct memberships of principal in role (PostgreSQL 16+ keeps one per grantor). */
  total: number;
  /** Those granted by Sesame's own account. */
  ours: number;
}

async function membershipState(client: Queryable, role: string, principal: string): Promise<MembershipState> {
  const result = await client.query<MembershipState>(
    `WITH r AS (SELECT oid FROM pg_roles WHERE rolname = $1),
          p AS (SELECT oid FROM pg_roles WHERE rolname = $2)
     SELECT EXISTS (SELECT 1 FROM r) AS "roleExists",
            EXISTS (SELECT 1 FROM p) AS "principalExists",
            count(*)::int AS total,
            (count(*) FILTER (WHERE m.grantor = (SELECT oid FROM pg_roles WHERE rolname = current_user)))::int AS ours
     FROM pg_auth_members m
     WHERE m.roleid = (SELECT oid FROM r) AND m.member = (SELECT oid FROM p)`,
    [role, principal],
  );
  return result.rows[0]!;
}

export async function grantMembership(
  client: Queryable,
  target: MembershipTarget,
  principal: string,
): Promise<GrantReceipt> {
  const state = await membershipState(client, target.role, principal);
  if (!state.roleExists) {
    throw new AppError(
      "connector_failed",
      `Role "${target.role}" does not exist on the target. Create it, or fix this resource's target in the policy file.`,
    );
  }
  if (!state.principalExists) {
    throw new AppError(
      "connector_failed",
      `The principal "${principal}" has no role on the target. Create that login role, or fix the identity mapping (the resource's principal template or the person's principals).`,
    );
  }
  // A retried grant finds the membership it made the first time and adds nothing.
  if (state.total === 0) await client.query(`GRANT ${ident(target.role)} TO ${ident(principal)}`);
  const preexisting = state.total > 0 && state.ours === 0;
  return { data: { mode: "membership", role: target.role, principal, preexisting } };
}

export async function revokeMembership(
  client: Queryable,
  target: MembershipTarget,
  principal: string,
  receipt: Record<string, unknown> | null,
): Promise<void> {
  const state = await membershipState(client, target.role, principal);
  if (!state.principalExists) return;
  // Without a receipt (the grant never reported back) only a membership Sesame's account made is ours.
  const preexisting = receipt === null ? state.ours === 0 && state.total > 0 : receipt.preexisting === true;
  if (preexisting) return;
  if (state.roleExists && state.total > 0) await client.query(`REVOKE ${ident(target.role)} FROM ${ident(principal)}`);
  // Also on a repeated revoke: the previous attempt may have revoked but failed to end the sessions.
  if (target.terminateSessions) await terminateSessions(client, principal);
}

/** True when no direct membership remains (or the membership was never Sesame's to take away). */
export async function membershipRevoked(
  client: Queryable,
  target: MembershipTarget,
  principal: string,
  receipt: Record<string, unknown> | null,
): Promise<boolean> {
  if (receipt?.preexisting === true) return true;
  const state = await membershipState(client, target.role, principal);
  return state.total === 0;
}
