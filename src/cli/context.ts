import { existsSync } from "node:fs";
import { parseEnv, type Env } from "../config/env.js";
import { createRuntime, type Runtime } from "../runtime.js";

/** Loads `.env` from the working directory when present, as the server does. */
export function loadDotEnv(): void {
  if (existsSync(".env")) process.loadEnvFile(".env");
}

export function envFor(keys: readonly (keyof Env)[]): Env {
  return parseEnv(process.env, keys);
}

/** Builds a full runtime for one command and closes it afterwards. */
export async function withRuntime<T>(work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await createRuntime(parseEnv(), { migrate: false });
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}

/** Prints to stdout; commands never print secrets except a token at creation, once. */
export const print = (line = ""): void => void process.stdout.write(`${line}\n`);
