import { RoleNameSchema } from "./mysql-config.js";
import { type Account, accountSql, ident, literal, type Queryable, select } from "./mysql-sql.js";

/**
 * What differs between MariaDB and MySQL 8: where role grants and default roles live, and the
 * SET DEFAULT ROLE syntax. MariaDB keeps one default role per account and names roles without a
 * host; MySQL keeps a list of default roles, and a role is an account (`'role'@'%'`).
 */
export interface Flavour {
  kind: "mariadb" | "mysql";
  /** Grant tables Sesame reads, as `SELECT <columns> FROM <table>` parts, for check(). */
  stateReads: readonly { table: string; columns: string }[];
  accountExists(client: Queryable, account: Account): Promise<boolean>;
  roleExists(client: Queryable, role: string): Promise<boolean>;
  hasRole(client: Queryable, account: Account, role: string): Promise<boolean>;
  roleSql(role: string): string;
  hasDefaultRole(client: Queryable, account: Account, role: string): Promise<boolean>;
  /** The default role that making `role` the default would displace (MariaDB only has one). */
  displacedDefaultRole(client: Queryable, account: Account, role: string): Promise<string | null>;
  addDefaultRole(client: Queryable, account: Account, role: string): Promise<void>;
  /** Takes `role` out of the defaults; MariaDB puts back `previous` if the account still has it. */
  removeDefaultRole(client: Queryable, account: Account, role: string, previous: string | null): Promise<void>;
}

const exists = async (client: Queryable, sql: string, values: unknown[]): Promise<boolean> =>
  (await select(client, sql, values)).length > 0;

async function mariadbDefaultRole(client: Queryable, account: Account): Promise<string | null> {
  const rows = await select<{ role: string }>(
    client,
    "SELECT default_role AS role FROM mysql.user WHERE User = ? AND Host = ?",
    [account.user, account.host],
  );
  const role = rows[0]?.role ?? "";
  return role === "" ? null : role;
}

const mariadb: Flavour = {
  kind: "mariadb",
  stateReads: [
    { table: "mysql.user", columns: "User, Host, default_role" },
    { table: "mysql.roles_mapping", columns: "*" },
    { table: "mysql.db", columns: "*" },
    { table: "mysql.tables_priv", columns: "*" },
  ],
  accountExists: (client, account) =>
    exists(client, "SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?", [account.user, account.host]),
  // MariaDB stores a role as a mysql.user row with an empty host.
  roleExists: (client, role) => exists(client, "SELECT 1 FROM mysql.user WHERE User = ? AND Host = ''", [role]),
  hasRole: (client, account, role) =>
    exists(client, "SELECT 1 FROM mysql.roles_mapping WHERE User = ? AND Host = ? AND Role = ?", [
      account.user,
      account.host,
      role,
    ]),
  roleSql: ident,
  hasDefaultRole: async (client, account, role) => (await mariadbDefaultRole(client, account)) === role,
  async displacedDefaultRole(client, account, role) {
    const current = await mariadbDefaultRole(client, account);
    return current === role ? null : current;
  },
  async addDefaultRole(client, account, role) {
    await client.query(`SET DEFAULT ROLE ${ident(role)} FOR ${accountSql(account)}`);
  },
  async removeDefaultRole(client, account, role, previous) {
    if ((await mariadbDefaultRole(client, account)) !== role) return;
    // `previous` comes back from the ledger table: use it only if it is still a plain, granted role.
    const restore =
      previous !== null &&
      RoleNameSchema.safeParse(previous).success &&
      (await mariadb.hasRole(client, account, previous));
    await client.query(`SET DEFAULT ROLE ${restore ? ident(previous) : "NONE"} FOR ${accountSql(account)}`);
  },
};

interface RoleRef {
  name: string;
  host: string;
}

const mysqlRoleSql = (role: RoleRef): string => `${literal(role.name)}@${literal(role.host)}`;

const mysqlDefaultRoles = (client: Queryable, account: Account): Promise<RoleRef[]> =>
  select<RoleRef>(
    client,
    "SELECT DEFAULT_ROLE_USER AS name, DEFAULT_ROLE_HOST AS host FROM mysql.default_roles WHERE USER = ? AND HOST = ?",
    [account.user, account.host],
  );

async function setMysqlDefaultRoles(client: Queryable, account: Account, roles: readonly RoleRef[]): Promise<void> {
  const list = roles.length === 0 ? "NONE" : roles.map(mysqlRoleSql).join(", ");
  await client.query(`SET DEFAULT ROLE ${list} TO ${accountSql(account)}`);
}

const isRole = (role: string) => (ref: RoleRef) => ref.name === role && ref.host === "%";

const mysql8: Flavour = {
  kind: "mysql",
  stateReads: [
    { table: "mysql.user", columns: "User, Host" },
    { table: "mysql.role_edges", columns: "*" },
    { table: "mysql.default_roles", columns: "*" },
    { table: "mysql.db", columns: "*" },
    { table: "mysql.tables_priv", columns: "*" },
  ],
  accountExists: (client, account) =>
    exists(client, "SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?", [account.user, account.host]),
  roleExists: (client, role) => exists(client, "SELECT 1 FROM mysql.user WHERE User = ? AND Host = '%'", [role]),
  hasRole: (client, account, role) =>
    exists(
      client,
      "SELECT 1 FROM mysql.role_edges WHERE FROM_USER = ? AND FROM_HOST = '%' AND TO_USER = ? AND TO_HOST = ?",
      [role, account.user, account.host],
    ),
  roleSql: (role) => mysqlRoleSql({ name: role, host: "%" }),
  hasDefaultRole: async (client, account, role) => (await mysqlDefaultRoles(client, account)).some(isRole(role)),
  displacedDefaultRole: async () => null,
  async addDefaultRole(client, account, role) {
    // SET DEFAULT ROLE replaces the whole list: keep the account's other default roles.
    const current = await mysqlDefaultRoles(client, account);
    if (!current.some(isRole(role)))
      await setMysqlDefaultRoles(client, account, [...current, { name: role, host: "%" }]);
  },
  async removeDefaultRole(client, account, role) {
    const current = await mysqlDefaultRoles(client, account);
    if (current.some(isRole(role)))
      await setMysqlDefaultRoles(
        client,
        account,
        current.filter((ref) => !isRole(role)(ref)),
      );
  },
};

export async function detectFlavour(client: Queryable): Promise<Flavour> {
  const rows = await select<{ version: string }>(client, "SELECT VERSION() AS version");
  return /mariadb/i.test(rows[0]?.version ?? "") ? mariadb : mysql8;
}
