import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PrivatePostgres, startPrivatePostgres } from "../../bench/private-postgres.js";
import {
  DEMO_ACTION_ROLE,
  DEMO_EXECUTOR,
  DEMO_LOGINS,
  type DemoPerson,
  DevSetupError,
  databaseUrl,
  prepareDevDatabases,
} from "../../scripts/dev-databases.js";
import { describeWith } from "../helpers/prerequisites.js";

const run = promisify(execFile);

/**
 * `npm run dev`'s setup against a private cluster made with `initdb --auth=scram-sha-256`, which
 * is how a stock Debian or Ubuntu PostgreSQL treats TCP clients: every connection needs a password.
 */

async function query(url: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

describeWith("postgresql-server", "npm run dev on a password-protected PostgreSQL", () => {
  let cluster: PrivatePostgres;
  const superuserPassword = randomBytes(12).toString("hex");
  const passwords = Object.fromEntries(
    Object.keys(DEMO_LOGINS).map((person) => [person, randomBytes(12).toString("hex")]),
  ) as Record<DemoPerson, string>;
  const executorPassword = randomBytes(12).toString("hex");
  const setup = () => ({
    adminUrl: cluster.url,
    sesameDatabase: "sesame_dev",
    demoDatabase: "sesame_demo",
    passwords,
    executorPassword,
  });
  const aliceUrl = () =>
    databaseUrl(cluster.url, "sesame_demo", { user: DEMO_LOGINS.alice, password: passwords.alice });

  beforeAll(async () => {
    cluster = await startPrivatePostgres({ auth: { method: "scram-sha-256", password: superuserPassword } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("refuses a password-less connection, as a stock server does", async () => {
    const withoutPassword = Object.assign(new URL(cluster.url), { password: "" }).toString();
    await expect(query(withoutPassword, "SELECT 1")).rejects.toThrow(/password/);
  });

  it("never takes over a role it did not make, and says how to go on", async () => {
    await query(cluster.url, "CREATE ROLE sesame_demo_carol LOGIN");
    const refused = prepareDevDatabases(setup());
    await expect(refused).rejects.toBeInstanceOf(DevSetupError);
    await expect(refused).rejects.toThrow(/already has a role "sesame_demo_carol".*DROP ROLE sesame_demo_carol/);
    await query(cluster.url, "DROP ROLE sesame_demo_carol");
  });

  it("makes the databases, prefixed roles and password logins; a grant is what lets a login in", async () => {
    await prepareDevDatabases(setup());
    const { rows } = await query(cluster.url, "SELECT rolname FROM pg_roles WHERE rolname LIKE 'sesame_demo_%'");
    expect(rows.map((row) => row.rolname).sort()).toEqual(
      [
        ...Object.values(DEMO_LOGINS),
        "sesame_demo_admin",
        "sesame_demo_readonly",
        "sesame_demo_staging_rw",
        DEMO_ACTION_ROLE,
        DEMO_EXECUTOR,
      ].sort(),
    );
    // No grant yet: the login works, the demo database refuses it.
    await expect(query(aliceUrl(), "SELECT current_user")).rejects.toThrow(/permission denied for database/);
    // What the example policy's prod-db-readonly grant does (membership mode).
    await query(databaseUrl(cluster.url, "sesame_demo"), "GRANT sesame_demo_readonly TO sesame_demo_alice");
    expect((await query(aliceUrl(), "SELECT current_user AS me")).rows[0].me).toBe("sesame_demo_alice");
  });

  it("makes examples/actions.yaml's executor login: it logs in, SET ROLEs to the app role, updates accounts", async () => {
    const executorUrl = databaseUrl(cluster.url, "sesame_demo", { user: DEMO_EXECUTOR, password: executorPassword });
    const client = new pg.Client({ connectionString: executorUrl });
    await client.connect();
    try {
      await client.query("BEGIN");
      await client.query(`SET LOCAL ROLE ${DEMO_ACTION_ROLE}`);
      const updated = await client.query("UPDATE accounts SET balance = balance + 1 WHERE id = 7");
      expect(updated.rowCount).toBe(1);
      await client.query("ROLLBACK");
      // The app role may read and update, not change the schema.
      await client.query("BEGIN");
      await client.query(`SET LOCAL ROLE ${DEMO_ACTION_ROLE}`);
      await expect(client.query("DROP TABLE accounts")).rejects.toThrow(/must be owner/);
      await client.query("ROLLBACK");
    } finally {
      await client.end();
    }
  });

  it("never takes over an executor login it did not make", async () => {
    const other = await (async () => {
      const c = new pg.Client({ connectionString: cluster.url });
      await c.connect();
      return c;
    })();
    try {
      await other.query("ALTER ROLE sesame_demo_executor RENAME TO sesame_demo_executor_made_here");
      await other.query("CREATE ROLE sesame_demo_executor LOGIN");
      await expect(prepareDevDatabases(setup())).rejects.toThrow(/already has a role "sesame_demo_executor"/);
      await other.query("DROP ROLE sesame_demo_executor");
      await other.query("ALTER ROLE sesame_demo_executor_made_here RENAME TO sesame_demo_executor");
    } finally {
      await other.end();
    }
  });

  it("runs again without complaint, renewing the logins' passwords", async () => {
    passwords.alice = randomBytes(12).toString("hex");
    await prepareDevDatabases(setup());
    expect((await query(aliceUrl(), "SELECT current_user AS me")).rows[0].me).toBe("sesame_demo_alice");
  });
});

describe("npm run dev's configuration errors", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sesame-dev-test-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints the message, not a stack trace", async () => {
    const root = join(import.meta.dirname, "../..");
    // Run from an empty directory: the first thing npm run dev does is write its .env.development there.
    const failed = run(join(root, "node_modules/.bin/tsx"), [join(root, "scripts/dev.ts")], {
      cwd: dir,
      env: { ...process.env, SESAME_DEV_POSTGRES_URL: "mysql://not-postgres" },
    });
    const error = (await failed.then(
      () => undefined,
      (reason: unknown) => reason,
    )) as { code: number; stderr: string };
    expect(error.code).toBe(1);
    expect(error.stderr).toContain("SESAME_DEV_POSTGRES_URL: must be a postgresql:// connection string");
    expect(error.stderr).not.toMatch(/\n\s+at /);
  });
});
