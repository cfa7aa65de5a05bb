/**
 * The databases and roles `npm run dev` makes on a local PostgreSQL: Sesame's own database, and a
 * demo database to grant access to, with the roles the example policy grants and a login for each
 * example person. Every role it makes starts with `sesame_demo_` and is marked as made here (a
 * comment on the role), so a role that someone else made is never taken over: setup stops and
 * says so instead. Logins get the generated passwords `npm run dev` keeps in .env.development, so
 * this works on a stock Debian or Ubuntu PostgreSQL, which asks for a password over TCP. For
 * examples/actions.yaml it also makes sesame_demo_app (what actions run as), the executor login
 * sesame_demo_executor in it, and a demo table `accounts` the app role may read and update.
 */
import pg from "pg";

export const DEMO_PREFIX = "sesame_demo_";
/** The roles examples/policy.yaml grants (membership mode). */
export const DEMO_GRANTED_ROLES = ["sesame_demo_readonly", "sesame_demo_admin", "sesame_demo_staging_rw"] as const;
/** The example people's logins, as the example policy's principal templates render them. */
export const DEMO_LOGINS = {
  alice: "sesame_demo_alice",
  bob: "sesame_demo_bob",
  carol: "sesame_demo_carol",
  dave: "sesame_demo_dokafor",
} as const;
export type DemoPerson = keyof typeof DEMO_LOGINS;
/** examples/actions.yaml: the role actions run as, and the executor login that SET ROLEs to it. */
export const DEMO_ACTION_ROLE = "sesame_demo_app";
export const DEMO_EXECUTOR = "sesame_demo_executor";

const MARK = "Made by Sesame's npm run dev for its demo; safe to drop.";

/** A setup problem the person can fix; printed as is, without a stack. */
export class DevSetupError extends Error {
  override name = "DevSetupError";
}

export interface DevDatabases {
  /** Superuser (or CREATEDB + CREATEROLE) URL of the server, any database. */
  adminUrl: string;
  sesameDatabase: string;
  demoDatabase: string;
  /** Each example person's login password. */
  passwords: Record<DemoPerson, string>;
  /** The password of examples/actions.yaml's executor login. */
  executorPassword: string;
}

/** Creates what is missing and renews the logins' passwords; safe to run at every start. */
export async function prepareDevDatabases(setup: DevDatabases): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl(setup.adminUrl, "postgres") });
  admin.on("error", () => undefined);
  await admin.connect();
  try {
    for (const name of [setup.sesameDatabase, setup.demoDatabase]) {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (!rowCount) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    }
    for (const role of DEMO_GRANTED_ROLES) await ensureRole(admin, role, undefined);
    for (const [person, login] of Object.entries(DEMO_LOGINS) as [DemoPerson, string][])
      await ensureRole(admin, login, setup.passwords[person]);
    // Only the granted roles may connect to the demo database: that is what a grant changes.
    const demo = pg.escapeIdentifier(setup.demoDatabase);
    await admin.query(`REVOKE CONNECT ON DATABASE ${demo} FROM PUBLIC`);
    for (const role of DEMO_GRANTED_ROLES)
      await admin.query(`GRANT CONNECT ON DATABASE ${demo} TO ${pg.escapeIdentifier(role)}`);
    // examples/actions.yaml: actions run as sesame_demo_app, through the executor login.
    await ensureRole(admin, DEMO_ACTION_ROLE, undefined);
    await ensureRole(admin, DEMO_EXECUTOR, setup.executorPassword);
    await admin.query(`GRANT ${pg.escapeIdentifier(DEMO_ACTION_ROLE)} TO ${pg.escapeIdentifier(DEMO_EXECUTOR)}`);
    await admin.query(`GRANT CONNECT ON DATABASE ${demo} TO ${pg.escapeIdentifier(DEMO_ACTION_ROLE)}`);
  } finally {
    await admin.end();
  }
  await prepareActionTable(databaseUrl(setup.adminUrl, setup.demoDatabase));
}

/** The `accounts` table README's walk through examples/actions.yaml reads and updates. */
async function prepareActionTable(demoUrl: string): Promise<void> {
  const demo = new pg.Client({ connectionString: demoUrl });
  demo.on("error", () => undefined);
  await demo.connect();
  try {
    await demo.query("CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, balance int NOT NULL)");
    await demo.query("INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 10) g ON CONFLICT (id) DO NOTHING");
    await demo.query(`GRANT SELECT, UPDATE ON accounts TO ${pg.escapeIdentifier(DEMO_ACTION_ROLE)}`);
  } finally {
    await demo.end();
  }
}

async function ensureRole(admin: pg.Client, role: string, password: string | undefined): Promise<void> {
  const { rows } = await admin.query<{ mark: string | null }>(
    "SELECT shobj_description(oid, 'pg_authid') AS mark FROM pg_roles WHERE rolname = $1",
    [role],
  );
  const name = pg.escapeIdentifier(role);
  const login = password === undefined ? "NOLOGIN" : `LOGIN PASSWORD ${pg.escapeLiteral(password)}`;
  if (rows.length === 0) {
    await admin.query(`CREATE ROLE ${name} ${login}`);
    await admin.query(`COMMENT ON ROLE ${name} IS ${pg.escapeLiteral(MARK)}`);
  } else if (rows[0]!.mark === MARK) {
    await admin.query(`ALTER ROLE ${name} ${login}`);
  } else {
    throw new DevSetupError(
      `PostgreSQL already has a role "${role}" that npm run dev did not make, and it will not take it over. ` +
        `Drop it if it is a leftover (psql -c 'DROP ROLE ${role}'), or point SESAME_DEV_POSTGRES_URL at another server.`,
    );
  }
}

export function databaseUrl(serverUrl: string, database: string, credentials?: { user: string; password: string }) {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  if (credentials) {
    url.username = encodeURIComponent(credentials.user);
    url.password = encodeURIComponent(credentials.password);
  }
  return url.toString();
}
