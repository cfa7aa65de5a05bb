import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { parseEnv } from "../../src/config/env.js";
import { jobId } from "../../src/jobs/queues.js";
import { type Started, start } from "../../src/main.js";
import { createRuntime, type Runtime } from "../../src/runtime.js";
import { createApiToken } from "../../src/storage/api-token-repository.js";
import { createTestClock, type TestClock } from "./clock.js";
import { createMigratedDatabase, TEST_REDIS_URL, testRedisPrefix } from "./database.js";
import { waitFor } from "./wait.js";

export interface TestSesame {
  runtime: Runtime;
  started: Started;
  baseUrl: string;
  prefix: string;
  databaseUrl: string;
  /** This Sesame's clock: real time unless a test moves it (reset it when done). */
  clock: TestClock;
  /** API tokens by identity id. */
  tokens: Record<string, string>;
  /** Every log line, the request log included, parsed; empty unless started with `captureLogs`. */
  logs: Record<string, unknown>[];
  api(
    identity: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Headers; body: any }>;
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
    /** Log at level info into `logs` instead of not at all. */
    captureLogs?: boolean;
    /** The address Sesame reaches its fresh database at, e.g. through a test's proxy (default: directly). */
    reachDatabase?: (directUrl: string) => string;
  },
): Promise<TestSesame> {
  const database = await createMigratedDatabase(label);
  const prefix = testRedisPrefix(label);
  const dir = await mkdtemp(join(tmpdir(), "sesame-"));
  const policyPath = join(dir, "policy.yaml");
  await writeFile(policyPath, options.policy);
  const source = {
    DATABASE_URL: options.reachDatabase?.(database.url) ?? database.url,
    REDIS_URL: TEST_REDIS_URL,
    PORT: "0",
    HOST: "127.0.0.1",
    SESAME_POLICY_FILE: policyPath,
    SESAME_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString("base64"),
    SESAME_REDIS_PREFIX: prefix,
    SESAME_SWEEP_INTERVAL: options.sweepInterval ?? "1h",
    LOG_LEVEL: options.captureLogs ? "info" : "silent",
    // Tests drive the API far faster than a person; rate-limits.test.ts sets a low limit of its own.
    SESAME_RATE_LIMIT: "1000000",
    ...options.env,
  };
  const clock = createTestClock();
  const logs: Record<string, unknown>[] = [];
  const runtime = await createRuntime(parseEnv(source), {
    source,
    retry: { attempts: 3, backoffMs: 100 },
    now: clock.now,
    ...(options.captureLogs ? { logDestination: { write: (line: string) => void logs.push(JSON.parse(line)) } } : {}),
  }).catch(async (error: unknown) => {
    await database.drop();
    throw error;
  });
  const tokens: Record<string, string> = {};
  for (const id of options.identities) tokens[id] = await createApiToken(runtime.db, id, "test");
  const started = await start(runtime, options.role ?? "all").catch(async (error: unknown) => {
    await runtime.close();
    await database.drop();
    throw error;
  });
  const baseUrl = started.url ?? "";
  return {
    runtime,
    started,
    baseUrl,
    prefix,
    databaseUrl: database.url,
    clock,
    tokens,
    logs,
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
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
    },
    async flushRedis() {
      // This Sesame's own Redis: a test may have given it a private one (REDIS_URL in env).
      const redis = new Redis(source.REDIS_URL);
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

/**
 * Lets a grant's expiry arrive now instead of after its real duration: moves the Sesame's clock
 * just past the grant's expiry and runs its revoke job, which BullMQ would run at that moment.
 * Returns once the job is done (retries included), with the clock back on real time. A test can
 * then check "still live" before and "gone" after, with no race against the wall clock.
 */
export async function runRevokeAtExpiry(sesame: TestSesame, grantId: string): Promise<void> {
  const grant = await sesame.runtime.deps.store.getGrant(grantId);
  if (!grant) throw new Error(`there is no grant ${grantId}`);
  const job = await sesame.runtime.queues.revokes.getJob(jobId.revoke(grantId));
  if (!job) throw new Error(`grant ${grantId} has no revoke job`);
  sesame.clock.travelTo(new Date(grant.expiresAt.getTime() + 1_000));
  try {
    await job.promote();
    // Finished jobs are removed (they then read as "unknown"); one that failed for good is kept.
    await waitFor(
      async () => ["completed", "failed", "unknown"].includes(await job.getState()),
      `the revoke job of ${grantId} to run`,
    );
  } finally {
    sesame.clock.reset();
  }
}
