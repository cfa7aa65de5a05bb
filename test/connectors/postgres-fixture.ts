import { randomBytes } from "node:crypto";
import pg from "pg";
import { adminQuery, createTestDatabase } from "../helpers/database.js";

/**
 * A private database plus cluster-wide roles (hence the random prefix) for one test file:
 *   reader   NOLOGIN, the only holder of CONNECT on the database: "has access" = "can connect"
 *   alice    LOGIN, a requester with a password (pg_hba here is trust, so only CONNECT decides)
 *   bob      LOGIN, another requester
 *   granter  least privilege for membership targets: ADMIN OPTION on reader + pg_signal_backend
 *   creator  least privilege for login-role targets: CREATEROLE + pg_signal_backend
 */
export interface PostgresFixture {
  databaseName: string;
  role(suffix: string): string;
  /** A URL to the test database as `user` (host and port from the test PostgreSQL). */
  urlFor(user: string, password?: string, port?: number): string;
  granterUrl: string;
  creatorUrl: string;
  /** Passwords and URLs handed to connectors; none may ever appear in an error. */
  secrets: string[];
  /** Runs SQL as the superuser inside the test database. */
  superuser(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  canConnect(user: string): Promise<boolean>;
  /** An open session as `user`, whose termination the caller expects. */
  openSession(user: string): Promise<pg.Client>;
  cleanup(): Promise<void>;
}

const REFUSED = new Set(["42501", "28000"]);

export async function createPostgresFixture(label: string): Promise<PostgresFixture> {
  const database = await createTestDatabase(label);
  const prefix = `sesame_t${randomBytes(3).toString("hex")}_${label}`;
  const role = (suffix: string) => `${prefix}_${suffix}`;
  // Special characters on purpose: they must be redacted in every spelling.
  const granterPassword = `gr@nt:${randomBytes(6).toString("hex")}/?`;
  const creatorPassword = `cr%eat#${randomBytes(6).toString("hex")}`;
  const urlFor = (user: string, password?: string, port?: number) => {
    const url = new URL(database.url);
    url.username = encodeURIComponent(user);
    url.password = encodeURIComponent(password ?? "");
    if (port !== undefined) url.port = String(port);
    return url.toString();
  };
  const superuser = async (sql: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return await client.query(sql, params);
    } finally {
      await client.end();
    }
  };
  const q = (name: string) => pg.escapeIdentifier(name);
  const db = q(database.name);
  await adminQuery(`
    CREATE ROLE ${q(role("reader"))} NOLOGIN;
    CREATE ROLE ${q(role("alice"))} LOGIN PASSWORD 'alice-password';
    CREATE ROLE ${q(role("bob"))} LOGIN;
    CREATE ROLE ${q(role("granter"))} LOGIN PASSWORD ${pg.escapeLiteral(granterPassword)};
    CREATE ROLE ${q(role("creator"))} LOGIN CREATEROLE PASSWORD ${pg.escapeLiteral(creatorPassword)};
    GRANT ${q(role("reader"))} TO ${q(role("granter"))} WITH ADMIN OPTION;
    GRANT pg_signal_backend TO ${q(role("granter"))}, ${q(role("creator"))};
    REVOKE CONNECT ON DATABASE ${db} FROM PUBLIC;
    GRANT CONNECT ON DATABASE ${db} TO ${q(role("reader"))}, ${q(role("granter"))}, ${q(role("creator"))};
  `);
  const granterUrl = urlFor(role("granter"), granterPassword);
  const creatorUrl = urlFor(role("creator"), creatorPassword);

  return {
    databaseName: database.name,
    role,
    urlFor,
    granterUrl,
    creatorUrl,
    secrets: [granterUrl, granterPassword, creatorUrl, creatorPassword],
    superuser,
    async canConnect(user) {
      const client = new pg.Client({ connectionString: urlFor(user) });
      try {
        await client.connect();
        await client.query("SELECT 1");
        return true;
      } catch (error) {
        if (REFUSED.has((error as { code?: string }).code ?? "")) return false;
        throw error;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    async openSession(user) {
      const client = new pg.Client({ connectionString: urlFor(user) });
      client.on("error", () => undefined); // the revoke under test kills this session
      await client.connect();
      return client;
    },
    async cleanup() {
      await database.drop();
      const roles = await adminQuery(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`, [prefix]);
      for (const { rolname } of roles.rows as { rolname: string }[])
        await adminQuery(`DROP ROLE IF EXISTS ${q(rolname)}`);
    },
  };
}
