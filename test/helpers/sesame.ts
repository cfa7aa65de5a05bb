import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { parseEnv } from "../../src/config/env.js";
import { type Started, start } from "../../src/main.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { createApiToken } from "../../src/storage/api-token-repository.js";
import { createMigratedDatabase, TEST_REDIS_URL, testRedisPrefix } from "./database.js";

export interface TestSesame {
  runtime: Runtime;
  started: Started;
  baseUrl: string;
  prefix: string;
  databaseUrl: string;
  /** API tokens by identity id. */
  tokens: Record<string, string>;
  api(identity: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Deletes every Redis key of this instance: what a FLUSHALL would do to it. */
  flushRedis(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a whole Sesame (API + workers + sweeper) on its own database and Redis prefix, with the
 * given policy YAML. Tokens are created for `identities`.
 */
export async function startSesame(
  label: string,
  options: {
    policy: string;
    identities: string[];
    env?: Record<string, string>;
    role?: "all" | "web" | "worker";
    sweepInterval?: string;
  },
): Promise<TestSesame> {
  const database = await createMigratedDatabase(label);
  const prefix = testRedisPrefix(label);
  const dir = await mkdtemp(join(tmpdir(), "sesame-"));
  const policyPath = join(dir, "policy.yaml");
  await writeFile(policyPath, options.policy);
  const source = {
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    PORT: "0",
    HOST: "127.0.0.1",
    SESAME_POLICY_FILE: policyPath,
    SESAME_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString("base64"),
    SESAME_REDIS_PREFIX: prefix,
    SESAME_SWEEP_INTERVAL: options.sweepInterval ?? "1h",
    LOG_LEVEL: "silent",
    ...options.env,
  };
  const runtime = await createRuntime(parseEnv(source), { source, retry: { attempts: 3, backoffMs: 100 } }).catch(
    async (error: unknown) => {
      await database.drop();
      throw error;
    },
  );
  const tokens: Record<string, string> = {};
  for (const id of options.identities) tokens[id] = await createApiToken(runtime.db, id, "test");
  const started = await start(runtime, options.role ?? "all");
  const baseUrl = started.url ?? "";
  return {
    runtime,
    started,
    baseUrl,
    prefix,
    databaseUrl: database.url,
    tokens,
    async api(identity, method, path, body) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${tokens[identity]}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    async flushRedis() {
      const redis = new Redis(TEST_REDIS_URL);
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
    async stop() {
      await started.stop();
      await database.drop();
    },
  };
}
