/**
 * What `npm test` and Sesame need from the machine besides Node, how to tell whether it is there,
 * and Debian's package for it. Shared by `npm run doctor` and the test suite
 * (test/helpers/prerequisites-setup.ts), so both find and explain a missing piece the same way.
 * Every check has a short timeout and closes what it opens: it must neither hang nor keep a
 * process alive.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { userInfo } from "node:os";
import { delimiter, join } from "node:path";
import { Redis } from "ioredis";
import mysql from "mysql2/promise";
import pg from "pg";

export interface Prerequisite {
  title: string;
  /** What fails, or is skipped, without it. */
  neededFor: string;
  /** Debian's command to install it. */
  install: string;
  /** Why it is missing (naming where it was looked for), or undefined when it is there. */
  problem(): Promise<string | undefined>;
}

const TIMEOUT_MS = 3000;

// The URLs and paths the tests themselves use, with the same defaults: test/helpers/database.ts,
// test/connectors/mysql-fixture.ts, test/chat/teams/teams-playground.test.ts.
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const TEST_MYSQL_URL = process.env.TEST_MYSQL_URL ?? "mysql://root@127.0.0.1:3306";
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// test/connectors/kerberos-fixture.ts runs these by absolute path, so PATH does not matter for them;
// kerberos.test.ts's connector runs `kadmin` (its default command) from PATH.
const KERBEROS_FILES = [
  "/usr/sbin/kdb5_util",
  "/usr/sbin/kadmin.local",
  "/usr/sbin/krb5kdc",
  "/usr/sbin/kadmind",
  "/usr/bin/kadmin",
  "/usr/bin/kinit",
  "/usr/bin/klist",
  "/usr/bin/kdestroy",
];
const KERBEROS_COMMANDS = ["kadmin"];

/** host:port only: a URL may carry a password, which must never be printed. */
function where(url: string, defaultPort: number): string {
  try {
    const { hostname, port } = new URL(url);
    return `${hostname}:${port || defaultPort}`;
  } catch {
    return "an unparsable URL";
  }
}

/** Node's connect errors to several addresses are AggregateErrors with an empty message; their code says it. */
function reason(error: unknown): string {
  if (error instanceof Error && error.message !== "") return error.message;
  return (error as { code?: string } | null)?.code ?? String(error);
}

export async function postgresProblem(url: string, variable: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  // A socket that dies after connecting emits `error`; unhandled, it would end the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return `PostgreSQL not reachable at ${where(url, 5432)} (${variable}): ${reason(error)}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function redisProblem(url: string, variable: string): Promise<string | undefined> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // connect() then only says "Connection is closed."; the error event says why.
  let cause: unknown;
  redis.on("error", (error) => {
    cause = error;
  });
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return `Redis not reachable at ${where(url, 6379)} (${variable}): ${reason(cause ?? error)}`;
  } finally {
    redis.disconnect();
  }
}

async function mariadbProblem(): Promise<string | undefined> {
  try {
    const connection = await mysql.createConnection({ uri: TEST_MYSQL_URL, connectTimeout: TIMEOUT_MS });
    try {
      await connection.query("SELECT 1");
      return undefined;
    } finally {
      await connection.end().catch(() => undefined);
    }
  } catch (error) {
    return `MariaDB not reachable at ${where(TEST_MYSQL_URL, 3306)} (TEST_MYSQL_URL): ${reason(error)}`;
  }
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Found the way spawn() and execFile() find a bare command name: in PATH, without a shell. */
async function onPath(command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir !== "" && (await isExecutableFile(join(dir, command)))) return true;
  }
  return false;
}

async function commandProblem(command: string): Promise<string | undefined> {
  return (await onPath(command)) ? undefined : `${command} not found on PATH`;
}

async function kerberosProblem(): Promise<string | undefined> {
  const missing = [
    ...(await Promise.all(KERBEROS_FILES.map(async (file) => ((await isExecutableFile(file)) ? [] : [file])))),
    ...(await Promise.all(
      KERBEROS_COMMANDS.map(async (command) => ((await onPath(command)) ? [] : [`${command} (on PATH)`])),
    )),
  ].flat();
  return missing.length === 0 ? undefined : `MIT Kerberos tools missing: ${missing.join(", ")}`;
}

/** initdb and pg_ctl where the private clusters look for them, and a user they may run as. */
async function postgresServerProblem(): Promise<string | undefined> {
  const { POSTGRES_BIN } = await import("../bench/private-postgres.js");
  const missing = [];
  for (const binary of ["initdb", "pg_ctl"])
    if (!(await isExecutableFile(join(POSTGRES_BIN, binary)))) missing.push(join(POSTGRES_BIN, binary));
  if (missing.length > 0) return `PostgreSQL server binaries missing: ${missing.join(", ")} (BENCH_POSTGRES_BIN)`;
  if (process.getuid?.() !== 0 && userInfo().username !== "postgres")
    return "a private PostgreSQL cluster runs as the postgres user: run the tests as root or as postgres";
  return undefined;
}

async function chromiumProblem(): Promise<string | undefined> {
  return (await isExecutableFile(CHROMIUM_PATH)) ? undefined : `Chromium not found at ${CHROMIUM_PATH} (CHROMIUM_PATH)`;
}

const variableOrDefault = (name: string) => (process.env[name] === undefined ? `default; set ${name}` : name);

/** Without these `npm test` fails: nearly every test file uses PostgreSQL and Redis. */
export const CORE_PREREQUISITES = {
  postgresql: {
    title: "PostgreSQL",
    neededFor: "every test file that stores anything (each makes its own database), and Sesame itself",
    install: "apt-get install postgresql",
    problem: () => postgresProblem(TEST_POSTGRES_URL, variableOrDefault("TEST_POSTGRES_URL")),
  },
  redis: {
    title: "Redis",
    neededFor: "the job queues, in most test files and in Sesame itself",
    install: "apt-get install redis-server",
    problem: () => redisProblem(TEST_REDIS_URL, variableOrDefault("TEST_REDIS_URL")),
  },
  "redis-server": {
    title: "redis-server",
    neededFor: "the tests that start a private Redis (outage and recovery, Redis ACL connector)",
    install: "apt-get install redis-server",
    problem: () => commandProblem("redis-server"),
  },
} satisfies Record<string, Prerequisite>;

/** Without these, `npm test` skips the test groups that need them (or fails, under SESAME_TEST_REQUIRE_ALL=1). */
export const TEST_PREREQUISITES = {
  mariadb: {
    title: "MariaDB",
    neededFor: "the mysql connector tests (test/connectors/mysql-*.test.ts)",
    install: "apt-get install mariadb-server",
    problem: mariadbProblem,
  },
  kerberos: {
    title: "MIT Kerberos",
    neededFor: "the kerberos connector tests (test/connectors/kerberos*.test.ts)",
    install: "apt-get install krb5-kdc krb5-admin-server krb5-user",
    problem: kerberosProblem,
  },
  chromium: {
    title: "Chromium",
    neededFor: "the Teams end-to-end test (test/chat/teams/teams-playground.test.ts) and npm run cards:render",
    install: "apt-get install chromium",
    problem: chromiumProblem,
  },
  "postgresql-server": {
    title: "PostgreSQL server binaries",
    neededFor:
      "the test of npm run dev's setup against a private password-protected cluster (test/scripts/dev-databases.test.ts)",
    install: "apt-get install postgresql",
    problem: postgresServerProblem,
  },
  openssl: {
    title: "openssl",
    neededFor:
      "the kubernetes connector tests and the admission webhook's HTTPS port (test/connectors/kubernetes*.test.ts, test/admission/)",
    install: "apt-get install openssl",
    problem: () => commandProblem("openssl"),
  },
} satisfies Record<string, Prerequisite>;

export type TestPrerequisite = keyof typeof TEST_PREREQUISITES;
export const TEST_PREREQUISITE_NAMES = Object.keys(TEST_PREREQUISITES) as TestPrerequisite[];
