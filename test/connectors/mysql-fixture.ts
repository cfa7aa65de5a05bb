import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { MysqlTargetSchema } from "../../src/connectors/mysql/mysql-config.js";
import { mysqlConnectorDefinition } from "../../src/connectors/mysql/mysql-connector.js";

/**
 * Server-wide objects (hence the random prefix) for one test file on the local MariaDB:
 *   <p>_db       a database with table `items`; its name has `_` on purpose (a LIKE wildcard in GRANT)
 *   <p>Xdb       a look-alike database that an unescaped `<p>_db`.* grant would also match
 *   <p>_reader   a role with SELECT on <p>_db.*
 *   <p>_sesame   Sesame's least-privilege account (see src/connectors/mysql/README.md)
 *   requesters   accounts with a password and no access, made on demand
 */
export interface MysqlFixture {
  prefix: string;
  database: string;
  lookalikeDatabase: string;
  role: string;
  ledgerDatabase: string;
  sesameUrl: string;
  /** Sesame's account through the server's Unix socket (TEST_MYSQL_SOCKET). */
  sesameSocketUrl: string;
  /** Passwords and URLs handed to connectors; none may ever appear in an error. */
  secrets: string[];
  urlFor(user: string, password: string, port?: number): string;
  connector(overrides?: Record<string, unknown>, name?: string): Connector;
  context(principal: string, target: Record<string, unknown>): GrantContext;
  /** Creates a requester account `<p>_<label>` with the requester password. */
  requester(label: string): Promise<string>;
  /** Runs SQL as root. */
  root(sql: string, values?: unknown[]): Promise<unknown[]>;
  /** A new session as `user` can read <p>_db.items (refused = false). */
  canRead(user: string, database?: string): Promise<boolean>;
  /** An open session as `user`, whose end the caller expects. */
  openSession(user: string, database?: string): Promise<mysql.Connection>;
  cleanup(): Promise<void>;
}

export const TEST_MYSQL_URL = process.env.TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";
const TEST_MYSQL_SOCKET = process.env.TEST_MYSQL_SOCKET ?? "/run/mysqld/mysqld.sock";
const REQUESTER_PASSWORD = "requester-pw-1";
const REFUSED = new Set(["ER_TABLEACCESS_DENIED_ERROR", "ER_DBACCESS_DENIED_ERROR"]);
const escapeWildcards = (name: string) => name.replace(/_/g, "\\_");
const id = (name: string) => mysql.escapeId(name, true);
const account = (user: string) => `${mysql.escape(user)}@'%'`;

export async function createMysqlFixture(label: string): Promise<MysqlFixture> {
  const prefix = `st${randomBytes(3).toString("hex")}_${label}`;
  const database = `${prefix}_db`;
  const lookalikeDatabase = `${prefix}Xdb`;
  const role = `${prefix}_reader`;
  const ledgerDatabase = `${prefix}_ledger`;
  const sesame = `${prefix}_sesame`;
  // Special characters on purpose: they must be redacted in every spelling.
  const sesamePassword = `s3s@me:${randomBytes(6).toString("hex")}/?%`;
  const base = new URL(TEST_MYSQL_URL);
  const users: string[] = [sesame];

  const root = async (sql: string, values: unknown[] = []) => {
    const connection = await mysql.createConnection({ uri: TEST_MYSQL_URL, multipleStatements: true });
    try {
      const [rows] = await connection.query(sql, values);
      return rows as unknown[];
    } finally {
      await connection.end();
    }
  };
  const urlFor = (user: string, password: string, port?: number) => {
    const url = new URL(base);
    url.username = encodeURIComponent(user);
    url.password = encodeURIComponent(password);
    if (port !== undefined) url.port = String(port);
    return url.toString();
  };
  const sessionOptions = (user: string, db?: string): mysql.ConnectionOptions => ({
    host: base.hostname,
    port: Number(base.port || 3306),
    user,
    password: REQUESTER_PASSWORD,
    ...(db === undefined ? {} : { database: db }),
  });

  await root(`
    CREATE DATABASE ${id(database)}; CREATE TABLE ${id(database)}.items (id INT PRIMARY KEY); INSERT INTO ${id(database)}.items VALUES (1);
    CREATE DATABASE ${id(lookalikeDatabase)}; CREATE TABLE ${id(lookalikeDatabase)}.items (id INT PRIMARY KEY);
    CREATE DATABASE ${id(ledgerDatabase)};
    CREATE USER ${account(sesame)} IDENTIFIED BY ${mysql.escape(sesamePassword)};
    CREATE ROLE ${id(role)};
    GRANT ${id(role)} TO ${account(sesame)} WITH ADMIN OPTION;
    GRANT SELECT ON ${id(escapeWildcards(database))}.* TO ${id(role)};
    GRANT SELECT, INSERT ON ${id(escapeWildcards(database))}.* TO ${account(sesame)} WITH GRANT OPTION;
    GRANT SELECT (User, Host, default_role) ON mysql.user TO ${account(sesame)};
    GRANT SELECT ON mysql.roles_mapping TO ${account(sesame)};
    GRANT SELECT ON mysql.db TO ${account(sesame)};
    GRANT SELECT ON mysql.tables_priv TO ${account(sesame)};
    GRANT UPDATE ON mysql.* TO ${account(sesame)};
    GRANT PROCESS, CONNECTION ADMIN ON *.* TO ${account(sesame)};
    GRANT CREATE, SELECT, INSERT, UPDATE, DELETE ON ${id(escapeWildcards(ledgerDatabase))}.* TO ${account(sesame)};
  `);
  const sesameUrl = urlFor(sesame, sesamePassword);
  const socketUrl = new URL(sesameUrl);
  socketUrl.host = "localhost";
  socketUrl.searchParams.set("socketPath", TEST_MYSQL_SOCKET);
  const connector = (overrides: Record<string, unknown> = {}, name = "mysql-test") =>
    mysqlConnectorDefinition.create(
      mysqlConnectorDefinition.configSchema.parse({ url: sesameUrl, ledgerDatabase, ...overrides }),
      {
        name,
        secrets: [typeof overrides.url === "string" ? overrides.url : sesameUrl],
      },
    );
  let sequence = 0;

  return {
    prefix,
    database,
    lookalikeDatabase,
    role,
    ledgerDatabase,
    sesameUrl,
    sesameSocketUrl: socketUrl.toString(),
    secrets: [sesameUrl, socketUrl.toString(), sesamePassword],
    urlFor,
    connector,
    context: (principal, target) => ({
      grantId: `${prefix}-grant-${++sequence}`,
      principal,
      target: MysqlTargetSchema.parse(target),
      expiresAt: new Date(Date.now() + 3_600_000),
    }),
    async requester(name) {
      const user = `${prefix}_${name}`;
      await root(`CREATE USER ${account(user)} IDENTIFIED BY ${mysql.escape(REQUESTER_PASSWORD)}`);
      users.push(user);
      return user;
    },
    root,
    async canRead(user, db = database) {
      const connection = await mysql.createConnection(sessionOptions(user));
      try {
        await connection.query(`SELECT COUNT(*) FROM ${id(db)}.items`);
        return true;
      } catch (error) {
        if (REFUSED.has((error as { code?: string }).code ?? "")) return false;
        throw error;
      } finally {
        await connection.end().catch(() => undefined);
      }
    },
    async openSession(user, db) {
      const connection = await mysql.createConnection(sessionOptions(user, db));
      connection.on("error", () => undefined); // the revoke under test kills this session
      return connection;
    },
    async cleanup() {
      await root(
        `DROP DATABASE IF EXISTS ${id(database)}; DROP DATABASE IF EXISTS ${id(lookalikeDatabase)}; DROP DATABASE IF EXISTS ${id(ledgerDatabase)}`,
      );
      await root(`DROP ROLE IF EXISTS ${id(role)}`);
      for (const user of users) await root(`DROP USER IF EXISTS ${account(user)}`);
    },
  };
}
