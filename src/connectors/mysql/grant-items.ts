import { AppError } from "../../domain/errors.js";
import { describeError, errorCode } from "../redact.js";
import { type MysqlTarget, PRIVILEGES, type Privilege, parseGrantObject } from "./mysql-config.js";
import type { Flavour } from "./mysql-flavour.js";
import {
  type Account,
  accountSql,
  escapeWildcards,
  grantObjectSql,
  ident,
  privilegeSql,
  type Queryable,
  select,
} from "./mysql-sql.js";

/**
 * A target breaks down into items Sesame adds and removes one by one, each with its own
 * "was it there before?" answer: a role, the role as default role, or one privilege on one object.
 */
export type GrantItem =
  | { kind: "role"; role: string }
  | { kind: "default-role"; role: string }
  | { kind: "privilege"; privilege: Privilege; on: string };

/** In grant order; revoke walks them backwards (a default role must go before its role). */
export function itemsFor(target: MysqlTarget): GrantItem[] {
  if (target.mode === "privileges")
    return target.privileges.map((privilege) => ({ kind: "privilege", privilege, on: target.on }));
  const role: GrantItem = { kind: "role", role: target.role };
  return target.defaultRole ? [role, { kind: "default-role", role: target.role }] : [role];
}

export function itemKey(item: GrantItem): string {
  return item.kind === "privilege" ? `privilege:${item.privilege} on ${item.on}` : `${item.kind}:${item.role}`;
}

/** A default role gives nothing by itself: changing it alone is no reason to end sessions. */
export const grantsAccess = (item: GrantItem): boolean => item.kind !== "default-role";

// The server refuses to revoke what is not there; between our read and the REVOKE someone else may have removed it.
const ALREADY_GONE = new Set(["ER_NONEXISTING_GRANT", "ER_NONEXISTING_TABLE_GRANT", "ER_INVALID_ROLE"]);
const DENIED = new Set([
  "ER_DBACCESS_DENIED_ERROR",
  "ER_TABLEACCESS_DENIED_ERROR",
  "ER_SPECIFIC_ACCESS_DENIED_ERROR",
  "ER_ACCESS_DENIED_NO_PASSWORD_ERROR",
]);

export class ItemOperations {
  readonly client: Queryable;
  readonly flavour: Flavour;
  readonly account: Account;

  constructor(client: Queryable, flavour: Flavour, account: Account) {
    this.client = client;
    this.flavour = flavour;
    this.account = account;
  }

  async present(item: GrantItem): Promise<boolean> {
    switch (item.kind) {
      case "role":
        return this.flavour.hasRole(this.client, this.account, item.role);
      case "default-role":
        return this.flavour.hasDefaultRole(this.client, this.account, item.role);
      case "privilege":
        return this.#hasPrivilege(item.privilege, item.on);
    }
  }

  async displaced(item: GrantItem): Promise<string | null> {
    return item.kind === "default-role"
      ? this.flavour.displacedDefaultRole(this.client, this.account, item.role)
      : null;
  }

  async add(item: GrantItem): Promise<void> {
    const to = accountSql(this.account);
    try {
      if (item.kind === "role") await this.client.query(`GRANT ${this.flavour.roleSql(item.role)} TO ${to}`);
      else if (item.kind === "default-role") await this.flavour.addDefaultRole(this.client, this.account, item.role);
      else await this.client.query(`GRANT ${privilegeSql(item.privilege)} ON ${grantObjectSql(item.on)} TO ${to}`);
    } catch (error) {
      throw this.#denied(error, "grant", item);
    }
  }

  async remove(item: GrantItem, previous: string | null): Promise<void> {
    const from = accountSql(this.account);
    try {
      if (item.kind === "role") await this.client.query(`REVOKE ${this.flavour.roleSql(item.role)} FROM ${from}`);
      else if (item.kind === "default-role")
        await this.flavour.removeDefaultRole(this.client, this.account, item.role, previous);
      else await this.client.query(`REVOKE ${privilegeSql(item.privilege)} ON ${grantObjectSql(item.on)} FROM ${from}`);
    } catch (error) {
      if (!ALREADY_GONE.has(errorCode(error) ?? "")) throw this.#denied(error, "revoke", item);
    }
  }

  /** A refused GRANT/REVOKE, told as the privilege Sesame's account is missing; other errors unchanged. */
  #denied(error: unknown, action: "grant" | "revoke", item: GrantItem): unknown {
    if (!DENIED.has(errorCode(error) ?? "")) return error;
    const reason = describeError(error, []);
    const what =
      item.kind === "privilege"
        ? `${action} ${item.privilege} on ${item.on}`
        : item.kind === "role"
          ? `${action} role "${item.role}"`
          : `change the default role`;
    const needs =
      item.kind === "privilege"
        ? `${item.privilege} on ${item.on} WITH GRANT OPTION`
        : item.kind === "role"
          ? `ADMIN OPTION on role "${item.role}"`
          : `${this.flavour.kind === "mariadb" ? "UPDATE on mysql.*" : "CREATE USER"} (or set defaultRole: false on the target)`;
    return new AppError(
      "connector_failed",
      `Sesame's account may not ${what} (${reason}); it needs ${needs}. Run the connector's check for the exact statement.`,
    );
  }

  /** Only the exact grant row Sesame would write counts; broader grants (wildcards, *.*) are someone else's. */
  async #hasPrivilege(privilege: Privilege, on: string): Promise<boolean> {
    const { database, table } = parseGrantObject(on);
    const { user, host } = this.account;
    if (table === null) {
      const rows = await select<{ held: string }>(
        this.client,
        `SELECT ${ident(PRIVILEGES[privilege].dbColumn)} AS held FROM mysql.db WHERE User = ? AND Host = ? AND Db = ?`,
        [user, host, escapeWildcards(database)],
      );
      return rows[0]?.held === "Y";
    }
    const rows = await select<{ held: string }>(
      this.client,
      "SELECT Table_priv AS held FROM mysql.tables_priv WHERE User = ? AND Host = ? AND Db = ? AND Table_name = ?",
      [user, host, database, table],
    );
    const name = PRIVILEGES[privilege].tableName;
    return rows[0] !== undefined && name !== null && rows[0].held.split(",").includes(name);
  }
}
