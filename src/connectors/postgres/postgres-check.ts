import type { PostgresTarget } from "./postgres-config.js";
import { ident, type Queryable } from "./role-sql.js";

/**
 * Privilege checks behind `check()`: can Sesame's account do what the given targets need?
 * Problems name roles and the statement that fixes them; they never contain a secret.
 */

interface Account {
  name: string;
  superuser: boolean;
  createRole: boolean;
  canSignal: boolean;
  /** Before PostgreSQL 16, CREATEROLE alone allows granting any non-superuser role. */
  createRoleGrantsAnyRole: boolean;
}

async function loadAccount(client: Queryable): Promise<Account> {
  const result = await client.query<Account>(
    `SELECT rolname AS name, rolsuper AS superuser, rolcreaterole AS "createRole",
            pg_has_role(current_user, 'pg_signal_backend', 'MEMBER') AS "canSignal",
            current_setting('server_version_num')::int < 160000 AS "createRoleGrantsAnyRole"
     FROM pg_roles WHERE rolname = current_user`,
  );
  return result.rows[0]!;
}

async function roleProblem(client: Queryable, account: Account, role: string): Promise<string | undefined> {
  const result = await client.query<{ superuser: boolean; admin: boolean }>(
    `SELECT rolsuper AS superuser, pg_has_role(current_user, oid, 'MEMBER WITH ADMIN OPTION') AS admin FROM pg_roles WHERE rolname = $1`,
    [role],
  );
  const row = result.rows[0];
  if (row === undefined) return `role "${role}" does not exist on the target; create it or fix the policy file`;
  if (row.admin || account.superuser || (account.createRoleGrantsAnyRole && account.createRole && !row.superuser))
    return undefined;
  return `Sesame's account "${account.name}" cannot grant role "${role}": run GRANT ${ident(role)} TO ${ident(account.name)} WITH ADMIN OPTION`;
}

function signalProblem(account: Account): string | undefined {
  if (account.superuser || account.canSignal) return undefined;
  return `Sesame's account "${account.name}" cannot end sessions on revoke: run GRANT pg_signal_backend TO ${ident(account.name)}`;
}

export async function privilegeProblems(client: Queryable, targets: readonly PostgresTarget[]): Promise<string[]> {
  const account = await loadAccount(client);
  const problems = new Set<string>();
  const add = (problem: string | undefined) => problem !== undefined && problems.add(problem);
  for (const target of targets) {
    if (target.mode === "membership") {
      add(await roleProblem(client, account, target.role));
      if (target.terminateSessions) add(signalProblem(account));
      continue;
    }
    if (!account.superuser && !account.createRole) {
      add(
        `Sesame's account "${account.name}" cannot create login roles: run ALTER ROLE ${ident(account.name)} CREATEROLE`,
      );
    }
    for (const role of target.memberOf) add(await roleProblem(client, account, role));
    add(signalProblem(account));
  }
  return [...problems];
}
