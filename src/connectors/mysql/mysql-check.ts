import { describeError } from "../redact.js";
import { ensureLedger, LEDGER_TABLES, ledgerTable } from "./grant-ledger.js";
import { type MysqlTarget, parseGrantObject } from "./mysql-config.js";
import type { Flavour } from "./mysql-flavour.js";
import { grantObjectSql, ident, type Queryable, select } from "./mysql-sql.js";

/**
 * Privilege checks behind `check()`: can Sesame's account do what the given targets need? Its
 * own privileges are read from information_schema (which shows the current account's grants
 * without any extra privilege); grants it only has through a role are not seen. Problems name the
 * statement that fixes them and never contain a secret.
 */

interface Scope {
  database?: string;
  table?: string;
}

/** Does Sesame's account hold `privilege` on the scope (globally, on a matching database pattern, or on the table)? */
async function holds(
  client: Queryable,
  grantee: string,
  privilege: string,
  scope: Scope,
  grantable = false,
): Promise<boolean> {
  const option = grantable ? " AND IS_GRANTABLE = 'YES'" : "";
  const parts = [`SELECT 1 FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ? AND PRIVILEGE_TYPE = ?${option}`];
  const values: unknown[] = [grantee, privilege];
  if (scope.database !== undefined) {
    // TABLE_SCHEMA holds the pattern as granted (`my\_db` or `my_db` or `my%`): match it with LIKE.
    parts.push(
      `SELECT 1 FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND PRIVILEGE_TYPE = ? AND ? LIKE TABLE_SCHEMA${option}`,
    );
    values.push(grantee, privilege, scope.database);
  }
  if (scope.database !== undefined && scope.table !== undefined) {
    parts.push(
      `SELECT 1 FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ? AND PRIVILEGE_TYPE = ? AND TABLE_SCHEMA = ? AND TABLE_NAME = ?${option}`,
    );
    values.push(grantee, privilege, scope.database, scope.table);
  }
  return (await select(client, parts.join(" UNION ALL "), values)).length > 0;
}

async function canRead(client: Queryable, table: string, columns: string): Promise<boolean> {
  try {
    await client.query(`SELECT ${columns} FROM ${table} LIMIT 0`);
    return true;
  } catch {
    return false;
  }
}

/** Creates the ledger if needed and proves Sesame may write it, leaving nothing behind. */
async function ledgerProblem(client: Queryable, database: string, grantee: string): Promise<string | undefined> {
  const table = ledgerTable(database);
  try {
    await ensureLedger(client, database);
    await client.query("START TRANSACTION");
    await client.query(
      `INSERT INTO ${table} (grant_id, item, account, preexisting, expires_at) VALUES ('sesame-check', 'check', 'check', 0, '1970-01-02 00:00:00')`,
    );
    await client.query(`UPDATE ${table} SET revoked_at = CURRENT_TIMESTAMP WHERE grant_id = 'sesame-check'`);
    await client.query(`DELETE FROM ${table} WHERE grant_id = 'sesame-check'`);
    await client.query("ROLLBACK");
    return undefined;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    return `Sesame's account ${grantee} cannot use its ledger table ${table} (${describeError(error, [])}): run CREATE DATABASE IF NOT EXISTS ${ident(database)}; GRANT CREATE, SELECT, INSERT, UPDATE, DELETE ON ${ident(database)}.* TO ${grantee}`;
  }
}

// Database- and table-level privileges that let an account forge or rewrite ledger rows.
const DB_WRITE = ["Insert_priv", "Update_priv", "Delete_priv", "Create_priv", "Drop_priv", "Alter_priv"];
const TABLE_WRITE = ["Insert", "Update", "Delete", "Create", "Drop", "Alter"];
const COLUMN_WRITE = ["Insert", "Update"];

/**
 * Accounts and roles other than Sesame's own that may write the ledger, from mysql.db (any
 * database pattern matching it) and mysql.tables_priv (table and column grants on its tables).
 * A forged or edited row can make a revoke leave access in place. Global (ON *.*) write
 * privileges are not listed: they include the grant tables themselves, so they are root already.
 * Unreadable grant tables are reported elsewhere; then this says nothing.
 */
async function ledgerWritersProblem(client: Queryable, database: string): Promise<string | undefined> {
  // CURRENT_USER() is user@host; the host part has no '@', the user part may.
  const host = "SUBSTRING_INDEX(CURRENT_USER(), '@', -1)";
  const notSesame = `NOT (User = LEFT(CURRENT_USER(), CHAR_LENGTH(CURRENT_USER()) - CHAR_LENGTH(${host}) - 1) AND Host = ${host}) AND User <> 'root'`;
  const tables = LEDGER_TABLES.map(() => "?").join(", ");
  const anyOf = (column: string, names: readonly string[]) =>
    names.map((name) => `FIND_IN_SET('${name}', ${column}) > 0`).join(" OR ");
  let rows: { who: string; scope: string }[];
  try {
    rows = await select(
      client,
      `SELECT CONCAT(QUOTE(User), '@', QUOTE(Host)) AS who, CONCAT('\`', Db, '\`.*') AS scope FROM mysql.db
         WHERE ? LIKE Db AND (${DB_WRITE.map((column) => `${column} = 'Y'`).join(" OR ")}) AND ${notSesame}
       UNION
       SELECT CONCAT(QUOTE(User), '@', QUOTE(Host)) AS who, CONCAT(Db, '.', Table_name) AS scope FROM mysql.tables_priv
         WHERE Db = ? AND Table_name IN (${tables}) AND (${anyOf("Table_priv", TABLE_WRITE)} OR ${anyOf("Column_priv", COLUMN_WRITE)}) AND ${notSesame}
       ORDER BY who, scope`,
      [database, database, ...LEDGER_TABLES],
    );
  } catch {
    return undefined;
  }
  if (rows.length === 0) return undefined;
  const list = rows.map((row) => `${row.who} (on ${row.scope})`).join(", ");
  return (
    `Accounts other than Sesame's may write its ledger in database ${ident(database)}: ${list}. A forged or edited ledger row can make a revoke leave access in place: ` +
    `revoke their INSERT, UPDATE, DELETE, CREATE, DROP and ALTER there, or set ledgerDatabase to a database only Sesame's account can write`
  );
}

export async function privilegeProblems(
  client: Queryable,
  flavour: Flavour,
  ledgerDatabase: string,
  targets: readonly MysqlTarget[],
): Promise<string[]> {
  const [self] = await select<{ grantee: string }>(
    client,
    "SELECT CONCAT(QUOTE(SUBSTRING_INDEX(CURRENT_USER(), '@', 1)), '@', QUOTE(SUBSTRING_INDEX(CURRENT_USER(), '@', -1))) AS grantee",
  );
  const grantee = self!.grantee;
  const problems = new Set<string>();
  const add = (problem: string | undefined) => problem !== undefined && problems.add(problem);
  const needs = async (privilege: string, alternatives: readonly string[], problem: string) => {
    for (const name of [privilege, ...alternatives]) if (await holds(client, grantee, name, {})) return;
    add(problem);
  };

  add(await ledgerProblem(client, ledgerDatabase, grantee));
  add(await ledgerWritersProblem(client, ledgerDatabase));
  for (const { table, columns } of flavour.stateReads) {
    if (!(await canRead(client, table, columns)))
      add(
        `Sesame's account ${grantee} cannot read ${table}: run GRANT SELECT${columns === "*" ? "" : ` (${columns})`} ON ${table} TO ${grantee}`,
      );
  }
  const connectionAdmin = flavour.kind === "mariadb" ? "CONNECTION ADMIN" : "CONNECTION_ADMIN";
  await needs(
    "PROCESS",
    [],
    `Sesame's account ${grantee} cannot list sessions to end them on revoke: run GRANT PROCESS ON *.* TO ${grantee}`,
  );
  await needs(
    connectionAdmin,
    ["SUPER"],
    `Sesame's account ${grantee} cannot end other accounts' sessions on revoke: run GRANT ${connectionAdmin} ON *.* TO ${grantee}`,
  );

  const roles = await select<{ role: string }>(
    client,
    "SELECT ROLE_NAME AS role FROM information_schema.APPLICABLE_ROLES WHERE IS_GRANTABLE = 'YES'",
  );
  const grantableRoles = new Set(roles.map((row) => row.role));
  // MySQL's ROLE_ADMIN may grant any role; MariaDB has no such privilege.
  const anyRole = flavour.kind === "mysql" && (await holds(client, grantee, "ROLE_ADMIN", {}));
  for (const target of targets) {
    if (target.mode === "role") {
      if (!anyRole && !grantableRoles.has(target.role)) {
        add(
          `Sesame's account ${grantee} cannot grant role "${target.role}" (or it does not exist): run GRANT ${flavour.roleSql(target.role)} TO ${grantee} WITH ADMIN OPTION`,
        );
      }
      if (!target.defaultRole) continue;
      if (flavour.kind === "mariadb" && !(await holds(client, grantee, "UPDATE", { database: "mysql" }))) {
        add(
          `Sesame's account ${grantee} cannot set default roles: run GRANT UPDATE ON mysql.* TO ${grantee}, or set defaultRole: false on the target`,
        );
      }
      if (flavour.kind === "mysql")
        await needs(
          "CREATE USER",
          [],
          `Sesame's account ${grantee} cannot set default roles: run GRANT CREATE USER ON *.* TO ${grantee}, or set defaultRole: false on the target`,
        );
      continue;
    }
    const { database, table } = parseGrantObject(target.on);
    const scope = table === null ? { database } : { database, table };
    for (const privilege of target.privileges) {
      if (!(await holds(client, grantee, privilege, scope, true))) {
        add(
          `Sesame's account ${grantee} cannot grant ${privilege} on ${target.on}: run GRANT ${privilege} ON ${grantObjectSql(target.on)} TO ${grantee} WITH GRANT OPTION`,
        );
      }
    }
  }
  return [...problems];
}
