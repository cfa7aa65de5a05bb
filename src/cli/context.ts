import { existsSync } from "node:fs";
import { type Env, parseEnv } from "../config/env.js";
import type { Runtime } from "../runtime.js";
import type { Database } from "../storage/prisma-client.js";

/** Loads `.env` from the working directory when present, as the server does. */
export function loadDotEnv(): void {
  if (existsSync(".env")) process.loadEnvFile(".env");
}

export function envFor(keys: readonly (keyof Env)[]): Env {
  return parseEnv(process.env, keys);
}

/** Opens Sesame's database for one command (only DATABASE_URL is needed) and closes it afterwards. */
// The database client and the runtime are imported on first use: `sesame --help` and `policy validate`
// need neither, and loading them (Prisma, Bolt, botbuilder, BullMQ) costs a second on a busy machine.
export async function withDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const { createDatabase } = await import("../storage/prisma-client.js");
  const env = envFor(["DATABASE_URL"]);
  const db = createDatabase(env.DATABASE_URL, {
    connectTimeoutSeconds: env.SESAME_DB_CONNECT_TIMEOUT,
    statementTimeoutSeconds: env.SESAME_DB_STATEMENT_TIMEOUT,
  });
  try {
    return await work(db);
  } finally {
    await db.$disconnect();
  }
}

/** Builds a full runtime for one command and closes it afterwards. */
export async function withRuntime<T>(work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const { createRuntime } = await import("../runtime.js");
  const runtime = await createRuntime(parseEnv(), { migrate: false });
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

/** Prints to stdout; commands never print secrets except a token at creation, once. */
export const print = (line = ""): void => void process.stdout.write(`${line}\n`);
