/**
 * `npm run dev`: a local Sesame with the example policy, ready to try.
 * - writes .env.development on first run (random encryption key and API tokens),
 * - creates the Sesame database and a demo target database with the roles the example policy
 *   grants (sesame_readonly, ...) and login roles for the example people,
 * - starts the API, the workers and the sweeper in credential-less Teams development mode, plus
 *   two Microsoft 365 Agents Playgrounds (Alice requests, Bob approves), and prints how to try it.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { envApiTokens, parseEnv } from "../src/config/env.js";
import { start } from "../src/main.js";
import { createRuntime } from "../src/runtime.js";
import {
  PLAYGROUND_APPROVER,
  PLAYGROUND_REQUESTER,
  type Playground,
  playgroundPolicy,
  startPlayground,
} from "./dev-playground.js";

const ENV_FILE = ".env.development";
const PEOPLE = ["alice", "bob", "carol", "dave"];
const token = () => `dev_${randomBytes(24).toString("base64url")}`;

function writeDevEnv(): void {
  const adminUrl = process.env.SESAME_DEV_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const url = (db: string) => Object.assign(new URL(adminUrl), { pathname: `/${db}` }).toString();
  const lines = [
    "# Written by `npm run dev` for local development only. Delete it to start afresh.",
    "NODE_ENV=development",
    "# Teams without credentials, for the local Agents Playground only (refused when NODE_ENV=production).",
    "TEAMS_DEV_NO_AUTH=true",
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
  const admin = new pg.Client({
    connectionString: Object.assign(new URL(databaseUrl), { pathname: "/postgres" }).toString(),
  });
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

const EXAMPLE_POLICY = "examples/policy.yaml";
const DEV_DIR = join(tmpdir(), "sesame-dev");

if (!existsSync(ENV_FILE)) writeDevEnv();
process.loadEnvFile(ENV_FILE);
// Older .env.development files predate Teams; `npm run dev` is always development.
process.env.NODE_ENV = "development";
process.env.TEAMS_DEV_NO_AUTH = "true";
if (process.env.SESAME_POLICY_FILE === EXAMPLE_POLICY) {
  // The example policy plus a noop resource Bob approves, so the playground can show a whole approval.
  mkdirSync(DEV_DIR, { recursive: true });
  writeFileSync(join(DEV_DIR, "policy.yaml"), playgroundPolicy(readFileSync(EXAMPLE_POLICY, "utf8")));
  process.env.SESAME_POLICY_FILE = join(DEV_DIR, "policy.yaml");
}
const env = parseEnv();
await prepareDatabases(env.DATABASE_URL, process.env.SESAME_PG_LOCAL_URL!).catch((error: unknown) => {
  const where = Object.assign(new URL(env.DATABASE_URL), { password: "" }).host;
  console.error(
    `Cannot prepare the development databases on PostgreSQL at ${where}: ${error instanceof Error ? error.message : String(error)}\n` +
      `Start PostgreSQL (docker compose up -d), or set SESAME_DEV_POSTGRES_URL, delete ${ENV_FILE} and run npm run dev again.`,
  );
  process.exit(1);
});
const runtime = await createRuntime(env);
const started = await start(runtime, "all");
const endpoint = `${started.url}/api/messages`;
const playgrounds: Playground[] = [
  await startPlayground({
    endpoint,
    port: 56150,
    user: PLAYGROUND_REQUESTER,
    others: [PLAYGROUND_APPROVER],
    dir: DEV_DIR,
  }),
  await startPlayground({
    endpoint,
    port: 56151,
    user: PLAYGROUND_APPROVER,
    others: [PLAYGROUND_REQUESTER],
    dir: DEV_DIR,
  }),
];
const tokens = Object.fromEntries(envApiTokens(env).map((t) => [t.identityId, t.token]));
const api = `${started.url}/api/v1`;
console.log(`
Sesame is running at ${started.url} (API tokens for the example people are in ${ENV_FILE}).

Try it: alice asks for 2 hours of read access to the demo database, bob (a DBA) approves:
  curl -s -X POST ${api}/requests -H 'authorization: Bearer ${tokens.alice}' -H 'content-type: application/json' \\
       -d '{"resource":"prod-db-readonly","duration":"2h","reason":"look at slow queries"}'
  curl -s -X POST ${api}/requests/<id>/approve -H 'authorization: Bearer ${tokens.bob}' -H 'content-type: application/json' -d '{}'
  psql "${Object.assign(new URL(process.env.SESAME_PG_LOCAL_URL!), { username: "alice", password: "" }).toString()}" -c 'select current_user'
  curl -s -X POST ${api}/grants/<grant id>/relinquish -H 'authorization: Bearer ${tokens.alice}'
Then: npx sesame audit verify   (with the same environment: set -a; . ./${ENV_FILE}; set +a)

Or in Microsoft Teams, locally (Microsoft 365 Agents Playground, no account needed):
  1. Open Bob (approver):   ${playgrounds[1]!.url}
  2. Open Alice (requester): ${playgrounds[0]!.url}
     and type: request-access playground-demo 1h trying Sesame   (or just request-access for the form)
  3. Back in Bob's tab, click Approve on the card; Alice's tab tells her the access is active.
  Each tab is one person: switch tabs to switch between requester and approver. Open Bob's tab
  first: Sesame can message a person only after their Teams client has said hello.
  Policy in use: ${env.SESAME_POLICY_FILE}
`);
const stop = async () => {
  for (const playground of playgrounds) playground.stop();
  await started.stop();
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
