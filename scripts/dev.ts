/**
 * `npm run dev`: a local Sesame with the example policy, ready to try.
 * - writes .env.development on first run (random encryption key and API tokens),
 * - creates the Sesame database and a demo target database with the roles the example policy
 *   grants (sesame_readonly, ...) and login roles for the example people,
 * - starts the API, the workers and the sweeper, and prints how to make a first request.
 */
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import pg from "pg";
import { parseEnv } from "../src/config/env.js";
import { start } from "../src/main.js";
import { createRuntime } from "../src/runtime.js";

const ENV_FILE = ".env.development";
const PEOPLE = ["alice", "bob", "carol", "dave"];
const token = () => `dev_${randomBytes(24).toString("base64url")}`;

function writeDevEnv(): void {
  const adminUrl = process.env.SESAME_DEV_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const url = (db: string) => Object.assign(new URL(adminUrl), { pathname: `/${db}` }).toString();
  const lines = [
    "# Written by `npm run dev` for local development only. Delete it to start afresh.",
    "NODE_ENV=development",
    `DATABASE_URL=${url("sesame_dev")}`,
    "REDIS_URL=redis://127.0.0.1:6379",
    "PORT=3978",
    "HOST=127.0.0.1",
    "SESAME_POLICY_FILE=examples/policy.yaml",
    `SESAME_ENCRYPTION_KEY=${randomBytes(32).toString("base64")}`,
    `SESAME_API_TOKENS=${PEOPLE.map((id) => `${id}=${token()}`).join(",")}`,
    "SESAME_REDIS_PREFIX=sesame-dev",
    "SESAME_SWEEP_INTERVAL=15s",
    "LOG_LEVEL=info",
    "# The example policy's pg-local connector grants roles in this demo database.",
    `SESAME_PG_LOCAL_URL=${url("sesame_demo")}`,
    "",
  ];
  writeFileSync(ENV_FILE, lines.join("\n"), { mode: 0o600 });
}

async function prepareDatabases(databaseUrl: string, demoUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: Object.assign(new URL(databaseUrl), { pathname: "/postgres" }).toString() });
  await admin.connect();
  try {
    for (const url of [databaseUrl, demoUrl]) {
      const name = new URL(url).pathname.slice(1);
      const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (!rowCount) await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    }
    const demo = pg.escapeIdentifier(new URL(demoUrl).pathname.slice(1));
    const roles = ["sesame_readonly", "sesame_admin", "sesame_staging_rw"];
    const logins = ["alice", "bob", "carol", "dokafor"];
    for (const [role, login] of [...roles.map((r) => [r, false] as const), ...logins.map((r) => [r, true] as const)]) {
      const { rowCount } = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
      if (!rowCount) await admin.query(`CREATE ROLE ${pg.escapeIdentifier(role)} ${login ? "LOGIN" : "NOLOGIN"}`);
    }
    // Only the granted roles may connect to the demo database: that is what a grant changes.
    await admin.query(`REVOKE CONNECT ON DATABASE ${demo} FROM PUBLIC`);
    for (const role of roles) await admin.query(`GRANT CONNECT ON DATABASE ${demo} TO ${pg.escapeIdentifier(role)}`);
  } finally {
    await admin.end();
  }
}

if (!existsSync(ENV_FILE)) writeDevEnv();
process.loadEnvFile(ENV_FILE);
const env = parseEnv();
await prepareDatabases(env.DATABASE_URL, process.env.SESAME_PG_LOCAL_URL!);
const runtime = await createRuntime(env);
const started = await start(runtime, "all");
const tokens = Object.fromEntries((env.SESAME_API_TOKENS ?? "").split(",").map((pair) => pair.split("=") as [string, string]));
const api = `${started.url}/api/v1`;
console.log(`
Sesame is running at ${started.url} (API tokens for the example people are in ${ENV_FILE}).

Try it: alice asks for 2 hours of read access to the demo database, bob (a DBA) approves:
  curl -s -X POST ${api}/requests -H 'authorization: Bearer ${tokens.alice}' -H 'content-type: application/json' \\
       -d '{"resource":"prod-db-readonly","duration":"2h","reason":"look at slow queries"}'
  curl -s -X POST ${api}/requests/<id>/approve -H 'authorization: Bearer ${tokens.bob}' -H 'content-type: application/json' -d '{}'
  psql "${Object.assign(new URL(process.env.SESAME_PG_LOCAL_URL!), { username: "alice" }).toString()}" -c 'select current_user'
  curl -s -X POST ${api}/grants/<grant id>/relinquish -H 'authorization: Bearer ${tokens.alice}'
Then: npx sesame audit verify   (with the same environment: set -a; . ./${ENV_FILE}; set +a)
`);
const stop = async () => {
  await started.stop();
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
