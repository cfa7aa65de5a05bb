/**
 * `npm run bench:revocation`: how late Sesame revokes, with many live grants. Starts a private
 * redis-server, a database of its own (on the local PostgreSQL, or with --faults on a private
 * cluster it may restart) and `node dist/main.js --role worker` (build first). Loads N live
 * grants through Sesame's services, then measures revoke lateness (revokedAt − expiresAt) for
 * grants expiring at a steady rate and for a burst expiring within one second, next to raw
 * BullMQ delayed jobs on the same Redis, with the worker's RSS and the machine's load.
 *
 * --faults instead kills the worker mid-burst, flushes the bench's Redis and restarts the bench's
 * PostgreSQL during the stream, then reports the revokes missed (0 expected).
 *
 *   npm run bench:revocation -- [--grants 100000] [--rate 50] [--window 60] [--duration 20]
 *                               [--burst 10000] [--bursts 1] [--faults] [--revoke-concurrency N]
 *                               [--timeout-minutes 60] [--json] [--metrics-dir DIR]
 *
 * With --metrics-dir, the worker's GET /metrics is saved there at the end (revocation-worker.prom).
 *
 * Progress goes to stderr, the report to stdout.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { DEFAULT_CONCURRENCY } from "../src/config/env.js";
import { BENCH_POSTGRES_URL, type BenchDatabase, createBenchDatabase, withClient } from "./bench-database.js";
import { type Cleanup, createCleanup } from "./cleanup.js";
import { measureDelayedFloor } from "./delayed-floor.js";
import { freePort } from "./free-port.js";
import { createGrantLoader, type GrantLoader } from "./grant-loader.js";
import { saveMetrics } from "./metrics-scrape.js";
import { type PrivatePostgres, startPrivatePostgres } from "./private-postgres.js";
import { type PrivateRedis, startPrivateRedis } from "./private-redis.js";
import { rssBytes, sampleRss } from "./proc-memory.js";
import { formatNumber } from "./report.js";
import { injectFaults } from "./revocation-faults.js";
import { burstGrants, loadGrants, outcomeBetween, streamGrants, waitUntilRevoked } from "./revocation-phases.js";
import { revocationPolicyYaml } from "./revocation-policy.js";
import { type RevocationReport, renderRevocationReport } from "./revocation-report.js";
import { distProblem, type SesameProcess, startSesameProcess, workersReady } from "./sesame-process.js";
import { sleep } from "./wait.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const REDIS_PREFIX = "sesame-bench";
/** Live grants last this long: none of them expires during the bench. */
const LIVE_SECONDS = 12 * 3_600;
const MiB = 1024 * 1024;
const LIVE_RSS_SAMPLE_MS = 40_000;
const progress = (message: string) => console.error(`[bench:revocation] ${message}`);

interface Options {
  grants: number;
  rate: number;
  window: number;
  duration: number;
  burst: number;
  /** Bursts one after another: RSS after each tells growth from a working set. */
  bursts: number;
  faults: boolean;
  /** SESAME_REVOKES_CONCURRENCY for Sesame (its default when absent); the BullMQ floor's worker runs as many. */
  revokeConcurrency?: number;
  timeoutMinutes: number;
  json: boolean;
  metricsDir?: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      grants: { type: "string", default: "100000" },
      rate: { type: "string", default: "50" },
      window: { type: "string", default: "60" },
      duration: { type: "string", default: "20" },
      burst: { type: "string", default: "10000" },
      bursts: { type: "string", default: "1" },
      faults: { type: "boolean", default: false },
      "revoke-concurrency": { type: "string" },
      "timeout-minutes": { type: "string", default: "60" },
      json: { type: "boolean", default: false },
      "metrics-dir": { type: "string" },
    },
  });
  const positive = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`--${name} must be a positive whole number (got ${text})`);
    return value;
  };
  const window = positive("window", values.window);
  if (values.faults && window < 30) throw new Error("--faults needs a --window of at least 30 seconds");
  return {
    grants: positive("grants", values.grants),
    rate: positive("rate", values.rate),
    window,
    duration: positive("duration", values.duration),
    burst: positive("burst", values.burst),
    bursts: positive("bursts", values.bursts),
    faults: values.faults,
    ...(values["revoke-concurrency"]
      ? { revokeConcurrency: positive("revoke-concurrency", values["revoke-concurrency"]) }
      : {}),
    timeoutMinutes: positive("timeout-minutes", values["timeout-minutes"]),
    json: values.json,
    metricsDir: values["metrics-dir"],
  };
}

const revokeConcurrency = (options: Options) => options.revokeConcurrency ?? DEFAULT_CONCURRENCY.revokes;

/** What the phases share. */
interface Bench {
  options: Options;
  redis: PrivateRedis;
  postgres?: PrivatePostgres;
  database: BenchDatabase;
  loader: GrantLoader;
  sesame: SesameProcess;
  startSesame(): Promise<SesameProcess>;
  /** The worker's GET /metrics (SESAME_METRICS_PORT). */
  metricsUrl: string;
  problems: string[];
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dist = distProblem(ROOT);
  if (dist?.fatal) throw new Error(dist.message);
  if (dist) progress(`warning: ${dist.message}`);
  const cleanup = createCleanup(progress);
  const stopNow = (code: number) => void cleanup.run().finally(() => process.exit(code));
  process.once("SIGINT", () => stopNow(130));
  process.once("SIGTERM", () => stopNow(130));
  const watchdog = setTimeout(() => {
    progress(`still running after ${options.timeoutMinutes} min (--timeout-minutes): giving up`);
    stopNow(1);
  }, options.timeoutMinutes * 60_000);
  try {
    const loadAtStart = loadavg();
    const bench = await setUp(options, cleanup);
    const report = await measure(bench);
    report.machine.load = { start: loadAtStart, end: loadavg() };
    if (options.json) console.log(JSON.stringify(report, null, 2));
    else console.log(renderRevocationReport(report));
  } finally {
    clearTimeout(watchdog);
    await cleanup.run();
  }
}

async function setUp(options: Options, cleanup: Cleanup): Promise<Bench> {
  const redis = await startPrivateRedis();
  cleanup.defer("stop the private redis-server", () => redis.stop());
  let postgres: PrivatePostgres | undefined;
  if (options.faults) {
    postgres = await startPrivatePostgres();
    cleanup.defer("stop and remove the private PostgreSQL", () => postgres!.stop());
  }
  const database = await createBenchDatabase(postgres?.url ?? BENCH_POSTGRES_URL, "sesame_revocation");
  cleanup.defer(`drop database ${database.name}`, () => database.drop());
  const workDir = await mkdtemp(join(tmpdir(), "sesame-bench-"));
  cleanup.defer("remove the policy file", () => rm(workDir, { recursive: true, force: true }));
  const policyPath = join(workDir, "policy.yaml");
  await writeFile(policyPath, revocationPolicyYaml());
  progress(
    `redis-server ${redis.version} at ${redis.url}, database ${database.name}${postgres ? " on a private cluster" : ""}`,
  );
  const metricsPort = await freePort();
  const env = {
    NODE_ENV: "production",
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    HOST: "127.0.0.1",
    SESAME_POLICY_FILE: policyPath,
    SESAME_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    SESAME_REDIS_PREFIX: REDIS_PREFIX,
    SESAME_RATE_LIMIT: "10000000",
    SESAME_METRICS_PORT: String(metricsPort),
    ...(options.revokeConcurrency ? { SESAME_REVOKES_CONCURRENCY: String(options.revokeConcurrency) } : {}),
  };
  const processes: SesameProcess[] = [];
  cleanup.defer("stop Sesame", async () => {
    for (const p of processes) await p.stop();
  });
  const startSesame = async () => {
    const started = await startSesameProcess(ROOT, "worker", env, workersReady(redis.url, REDIS_PREFIX, 1));
    processes.push(started);
    return started;
  };
  // Sesame migrates the database as it starts: the loader needs its tables.
  const sesame = await startSesame();
  const loader = await createGrantLoader({
    databaseUrl: database.url,
    redisUrl: redis.url,
    redisPrefix: REDIS_PREFIX,
    policyPath,
  });
  cleanup.defer("close the grant loader", () => loader.close());
  return {
    options,
    redis,
    ...(postgres ? { postgres } : {}),
    database,
    loader,
    sesame,
    startSesame,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    problems: [],
  };
}

async function measure(bench: Bench): Promise<RevocationReport> {
  const { options } = bench;
  await sleep(5_000);
  const idle = rssBytes(bench.sesame.child.pid);
  const floor = options.faults
    ? undefined
    : await measureDelayedFloor(bench.redis.url, {
        liveJobs: options.grants,
        rate: options.rate,
        windowSeconds: options.window,
        burst: options.burst,
        concurrency: revokeConcurrency(options),
      });
  if (floor)
    progress(
      `BullMQ floor: ${options.rate}/s p99 ${formatNumber(floor.rate.p99)} ms, burst done after ${formatNumber(floor.burstDoneMs)} ms`,
    );

  progress(`loading ${options.grants} live grants`);
  const loadStarted = Date.now();
  let lost = 0;
  await loadGrants(
    bench.loader,
    options.grants,
    () => LIVE_SECONDS,
    (error, count) => {
      lost += count;
      bench.problems.push(`the loader lost ${count} grants: ${error instanceof Error ? error.message : String(error)}`);
    },
  );
  const loadedPerSecond = (options.grants - lost) / ((Date.now() - loadStarted) / 1000);
  progress(`loaded at ${formatNumber(loadedPerSecond)}/s; waiting for the audit chainer`);
  const auditChainCaughtUp = await waitForAuditChain(bench.database, Date.now() + 20 * 60_000);
  // Longer than a sweep interval (30 s by default): each sweep walks every live grant.
  const liveRss = sampleRss(() => bench.sesame.child.pid, 500);
  await sleep(LIVE_RSS_SAMPLE_MS);
  const withLiveGrants = liveRss.stop();
  const report: RevocationReport = {
    machine: {
      cores: cpus().length,
      node: process.version,
      postgres: await serverVersion(bench.database),
      redis: bench.redis.version,
      load: { start: [], end: [] },
    },
    options: { ...options, revokeConcurrency: revokeConcurrency(options) },
    liveGrants: { count: options.grants - lost, loadedPerSecond, auditChainCaughtUp },
    ...(floor ? { floor } : {}),
    memory: {
      idleMiB: idle / MiB,
      withLiveGrantsMiB: { low: withLiveGrants.low / MiB, high: withLiveGrants.peak / MiB },
    },
    sesameLogs: bench.sesame.logs(),
    problems: bench.problems,
  };
  if (options.faults) await measureFaults(bench, report, loadedPerSecond);
  else await measureSteadyAndBurst(bench, report, loadedPerSecond);
  if (options.metricsDir)
    await saveMetrics(options.metricsDir, "revocation", { worker: bench.metricsUrl }, bench.problems);
  report.sesameLogs = bench.sesame.logs();
  return report;
}

async function measureSteadyAndBurst(bench: Bench, report: RevocationReport, loadedPerSecond: number): Promise<void> {
  const { options } = bench;
  progress(`stream: ${options.rate} grants/s for ${options.window} s, each lasting ${options.duration} s`);
  const stream = await streamGrants(bench.loader, {
    rate: options.rate,
    windowSeconds: options.window,
    durationSeconds: options.duration,
  });
  await waitUntilRevoked(bench.database, stream.window, stream.window.to.getTime() + 60_000);
  report.rate = { ...(await outcomeBetween(bench.database, stream.window, stream.notCreated)), load: loadavg() };
  progress(`stream: p99 ${formatNumber(report.rate.lateness.p99)} ms late`);

  const leadMs = (options.burst / loadedPerSecond) * 1_500 + 10_000;
  report.bursts = [];
  for (let round = 1; round <= options.bursts; round += 1) {
    progress(
      `burst ${round}/${options.bursts}: ${options.burst} grants expiring in one second, ${formatNumber(leadMs / 1000)} s from now`,
    );
    const pid = () => bench.sesame.child.pid;
    const rss = sampleRss(pid, 250);
    const burst = await burstGrants(bench.loader, options.burst, leadMs);
    // From here on Sesame only revokes (and chains the audit events of the loaded grants).
    const cpuBefore = bench.sesame.cpuMs();
    await waitUntilRevoked(bench.database, burst.window, burst.window.from.getTime() + 120_000);
    const sesameCpuMs = bench.sesame.cpuMs() - cpuBefore;
    const memory = rss.stop();
    await sleep(10_000);
    const outcome = await outcomeBetween(bench.database, burst.window, burst.notCreated);
    report.bursts.push({
      ...outcome,
      load: loadavg(),
      sesameCpuMs,
      peakMiB: memory.peak / MiB,
      afterMiB: rssBytes(pid()) / MiB,
    });
    progress(`burst ${round}: all revoked ${formatNumber(outcome.doneAfterMs)} ms after the first expiry`);
  }
}

async function measureFaults(bench: Bench, report: RevocationReport, loadedPerSecond: number): Promise<void> {
  const { options } = bench;
  const streamStart = Date.now() + (options.burst / loadedPerSecond) * 1_500 + 5_000;
  const origin = streamStart + options.duration * 1000;
  // The burst falls due 10 s into the stream's expiries; the worker dies a second later.
  progress(`faults: burst of ${options.burst}, then a ${options.window} s stream; kill, flush and restart on the way`);
  const burst = await burstGrants(bench.loader, options.burst, origin + 10_000 - Date.now());
  await sleep(Math.max(0, streamStart - Date.now()));
  const faults = injectFaults(
    {
      redis: bench.redis,
      postgres: bench.postgres!,
      killAndRestartWorker: async () => {
        process.kill(bench.sesame.child.pid, "SIGKILL");
        await bench.sesame.child.exited;
        const logs = bench.sesame.logs();
        bench.sesame = await bench.startSesame();
        bench.problems.push(`the killed worker had logged ${logs.warnings} warnings and ${logs.errors} errors`);
      },
    },
    {
      origin,
      killAtMs: 11_000,
      flushAtMs: (options.window * 1000) / 2,
      restartPostgresAtMs: (options.window * 1000 * 4) / 5,
    },
  );
  const stream = await streamGrants(bench.loader, {
    rate: options.rate,
    windowSeconds: options.window,
    durationSeconds: options.duration,
  });
  const records = await faults;
  const everything = { from: new Date(origin - 1_000), to: stream.window.to };
  // The sweeper repairs what the faults broke within an interval (30 s by default) or two.
  await waitUntilRevoked(bench.database, everything, Date.now() + 120_000);
  const outcome = await outcomeBetween(bench.database, everything, stream.notCreated + burst.notCreated);
  // The flush took every live grant's revoke job: the sweeper restores them, a page at a time.
  const flushedAt = origin + (records.find((record) => record.fault.startsWith("FLUSHALL"))?.atMs ?? 0);
  let counts = await revokeJobsAndActiveGrants(bench);
  for (const deadline = Date.now() + 180_000; counts.revokeJobs < counts.activeGrants && Date.now() < deadline; ) {
    await sleep(1_000);
    counts = await revokeJobsAndActiveGrants(bench);
  }
  report.faults = {
    records,
    outcome,
    missed: outcome.notRevoked,
    ...counts,
    jobsBackAfterMs: counts.revokeJobs >= counts.activeGrants ? Date.now() - flushedAt : Number.NaN,
  };
}

/** Waits until every audit event is linked into the chain (Sesame's chainer), so its work does not disturb the measurement. */
async function waitForAuditChain(database: BenchDatabase, deadline: number): Promise<boolean> {
  return withClient(database.url, async (client) => {
    while (Date.now() < deadline) {
      const { rows } = await client.query<{ unlinked: number }>(
        `SELECT ((SELECT count(*) FROM "AuditEvent") - (SELECT count(*) FROM "AuditChainLink"))::int AS unlinked`,
      );
      if (rows[0]!.unlinked === 0) return true;
      await sleep(2_000);
    }
    return false;
  });
}

async function serverVersion(database: BenchDatabase): Promise<string> {
  return withClient(database.url, async (client) => {
    const { rows } = await client.query<{ version: string; fsync: string }>(
      "SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync",
    );
    return `${rows[0]!.version} (fsync ${rows[0]!.fsync})`;
  });
}

/** Delayed, waiting and active revoke jobs in Sesame's queue, and the active grants they are for. */
async function revokeJobsAndActiveGrants(bench: Bench): Promise<{ revokeJobs: number; activeGrants: number }> {
  const redis = new Redis(bench.redis.url);
  try {
    const key = (suffix: string) => `${REDIS_PREFIX}:revokes:${suffix}`;
    const [delayed, waiting, active] = await Promise.all([
      redis.zcard(key("delayed")),
      redis.llen(key("wait")),
      redis.llen(key("active")),
    ]);
    const activeGrants = await withClient(bench.database.url, async (client) => {
      const { rows } = await client.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM "Grant" WHERE status = 'active'`,
      );
      return rows[0]!.count;
    });
    return { revokeJobs: delayed + waiting + active, activeGrants };
  } finally {
    redis.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(`[bench:revocation] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
