/**
 * `npm run dev`: a local Sesame with the example policy, ready to try.
 * - writes .env.development on first run (random encryption key and API tokens),
 * - creates the Sesame database and a demo target database with the roles the example policy
 *   grants (sesame_demo_readonly, ...) and a login with a generated password for each example person,
 * - starts the API, the workers and the sweeper in credential-less Teams development mode, plus
 *   two Microsoft 365 Agents Playgrounds (Alice requests, Bob approves), and prints how to try it.
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EnvError, envApiTokens, parseEnv } from "../src/config/env.js";
import { isAppError } from "../src/domain/errors.js";
import {
  DEMO_EXECUTOR,
  DEMO_LOGINS,
  type DemoPerson,
  DevSetupError,
  databaseUrl,
  prepareDevDatabases,
} from "./dev-databases.js";
import {
  PLAYGROUND_APPROVER,
  PLAYGROUND_REQUESTER,
  type Playground,
  playgroundPolicy,
  startPlayground,
} from "./dev-playground.js";

const ENV_FILE = ".env.development";
const PEOPLE = ["alice", "bob", "carol", "dave"];
const SESAME_DATABASE = "sesame_dev";
const DEMO_DATABASE = "sesame_demo";
const token = () => `dev_${randomBytes(24).toString("base64url")}`;
/** The variable of .env.development holding a person's demo login URL (with its generated password). */
const demoUrlVariable = (person: DemoPerson) => `SESAME_DEV_DEMO_URL_${person.toUpperCase()}`;

function adminUrl(): string {
  const url = process.env.SESAME_DEV_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new DevSetupError("SESAME_DEV_POSTGRES_URL: must be a postgresql:// connection string to your server");
  return url;
}

function writeDevEnv(): void {
  const lines = [
    "# Written by `npm run dev` for local development only. Delete it to start afresh.",
    "NODE_ENV=development",
    "# Teams without credentials, for the local Agents Playground only (refused when NODE_ENV=production).",
    "TEAMS_DEV_NO_AUTH=true",
    `DATABASE_URL=${databaseUrl(adminUrl(), SESAME_DATABASE)}`,
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
    `SESAME_PG_LOCAL_URL=${databaseUrl(adminUrl(), DEMO_DATABASE)}`,
    "",
  ];
  writeFileSync(ENV_FILE, lines.join("\n"), { mode: 0o600 });
}

/**
 * The example people's demo logins, each with a generated password, as URLs in .env.development
 * (added to an older file that lacks them), so `psql "$SESAME_DEV_DEMO_URL_ALICE"` just works.
 */
function demoPasswords(): Record<DemoPerson, string> {
  const passwords = {} as Record<DemoPerson, string>;
  for (const person of Object.keys(DEMO_LOGINS) as DemoPerson[]) {
    const variable = demoUrlVariable(person);
    let url = process.env[variable];
    if (!url) {
      const credentials = { user: DEMO_LOGINS[person], password: randomBytes(18).toString("base64url") };
      url = databaseUrl(process.env.SESAME_PG_LOCAL_URL ?? adminUrl(), DEMO_DATABASE, credentials);
      appendFileSync(ENV_FILE, `${variable}=${url}\n`);
      process.env[variable] = url;
    }
    passwords[person] = decodeURIComponent(new URL(url).password);
  }
  return passwords;
}

/**
 * The executor login of examples/actions.yaml, with a generated password, as the URL that example
 * reads (SESAME_DEMO_TARGET_URL) in .env.development (added to an older file that lacks it).
 */
function executorPassword(): string {
  let url = process.env.SESAME_DEMO_TARGET_URL;
  if (!url) {
    const credentials = { user: DEMO_EXECUTOR, password: randomBytes(18).toString("base64url") };
    url = databaseUrl(process.env.SESAME_PG_LOCAL_URL ?? adminUrl(), DEMO_DATABASE, credentials);
    appendFileSync(ENV_FILE, `# examples/actions.yaml's executor login (JIT actions)\nSESAME_DEMO_TARGET_URL=${url}\n`);
    process.env.SESAME_DEMO_TARGET_URL = url;
  }
  return decodeURIComponent(new URL(url).password);
}

const EXAMPLE_POLICY = "examples/policy.yaml";
const DEV_DIR = join(tmpdir(), "sesame-dev");

async function main(): Promise<void> {
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
  const passwords = demoPasswords();
  await prepareDevDatabases({
    adminUrl: env.DATABASE_URL,
    sesameDatabase: new URL(env.DATABASE_URL).pathname.slice(1),
    demoDatabase: new URL(
      process.env.SESAME_PG_LOCAL_URL ?? databaseUrl(env.DATABASE_URL, DEMO_DATABASE),
    ).pathname.slice(1),
    passwords,
    executorPassword: executorPassword(),
  }).catch((error: unknown) => {
    if (error instanceof DevSetupError) throw error;
    const where = new URL(env.DATABASE_URL).host;
    throw new DevSetupError(
      `Cannot prepare the development databases on PostgreSQL at ${where}: ${error instanceof Error ? error.message : String(error)}\n` +
        `Start PostgreSQL (docker compose up -d), or set SESAME_DEV_POSTGRES_URL (with its password), delete ${ENV_FILE} and run npm run dev again.`,
    );
  });
  // Loaded only now: a configuration problem above is reported without waiting for Prisma, Bolt and BullMQ.
  const { createRuntime } = await import("../src/runtime.js");
  const { start } = await import("../src/main.js");
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
  console.log(`
Sesame is running at ${started.url}. API tokens for the example people, and their demo database
logins (${Object.values(DEMO_LOGINS).join(", ")}, with generated passwords), are in ${ENV_FILE}:
  alice's API token: ${tokens.alice}
  alice's demo login: psql "$${demoUrlVariable("alice")}" (after: set -a; . ./${ENV_FILE}; set +a)

Try it with curl: README.md, "Try it with curl", runs as pasted in another terminal.

Or in Microsoft Teams, locally (Microsoft 365 Agents Playground, no account needed):
  1. Open Bob (approver):   ${playgrounds[1]!.url}
  2. Open Alice (requester): ${playgrounds[0]!.url}
     and type: request-access playground-demo 1h trying Sesame   (or just request-access for the form)
  3. Back in Bob's tab, click Approve on the card; Alice's tab tells her the access is active.
  Each tab is one person: switch tabs to switch between requester and approver. Open Bob's tab
  first: Sesame can message a person only after their Teams client has said hello.
  Policy in use: ${env.SESAME_POLICY_FILE}

JIT actions (run one SQL statement once): stop this, start SESAME_POLICY_FILE=examples/actions.yaml npm run dev
  and follow README.md, "JIT actions" (its executor login is in ${ENV_FILE} as SESAME_DEMO_TARGET_URL).
`);
  const stop = async () => {
    for (const playground of playgrounds) playground.stop();
    await started.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}

// A configuration problem is a message for the person, not a stack trace.
main().catch((error: unknown) => {
  if (error instanceof EnvError || error instanceof DevSetupError) console.error(error.message);
  else if (isAppError(error)) console.error(`Sesame cannot start: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
