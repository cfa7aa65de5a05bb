/**
 * `npm run bench`: Sesame's write path as a user sees it. Starts a private redis-server, a
 * database of its own on the local PostgreSQL and `node dist/main.js` (built beforehand with
 * `npm run build`), drives full lifecycles through the REST API (submit → approve → active →
 * relinquish → revoked) and prints each figure next to a floor measured in the same run: raw
 * BullMQ, serial PostgreSQL commits, /healthz. Then the same with a second `--role worker`
 * process beside the first (with --split, the first serves the API alone: `--role web`); one- and
 * two-process runs alternate so a drifting machine load affects both alike, and each figure is the
 * median of the runs. The two-process ratio has its floor too: a plain node-postgres loop from one
 * process and from two (split-floor.ts).
 *
 *   npm run bench -- [--lifecycles 1000] [--warmup 1000] [--split] [--concurrency 50] [--runs 3] [--json]
 *                    [--poll-ms 25] [--poll-max-ms 250] [--timeout-minutes 45] [--metrics-dir DIR]
 *
 * With --metrics-dir, each Sesame process's GET /metrics is saved there at the end of each run
 * (run-<n>-<processes>p-<role>.prom), e.g. for scripts/draw-histograms.ts.
 *
 * BENCH_POSTGRES_URL names the server (default postgresql://postgres@127.0.0.1:5432/postgres).
 * Progress goes to stderr, the report to stdout.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  BENCH_POSTGRES_URL,
  type BenchDatabase,
  createBenchDatabase,
  databaseUrl,
  withClient,
} from "./bench-database.js";
import { apiTokensEnv, BENCH_RESOURCE, type BenchCast, benchPolicyYaml, createCast } from "./bench-policy.js";
import { describeExit } from "./child-process.js";
import { type Cleanup, createCleanup } from "./cleanup.js";
import { measureBullmq, measureCommits, measureHttp } from "./floors.js";
import { freePort } from "./free-port.js";
import { createApi, type SesameApi, stringField } from "./http-api.js";
import { type DriverOptions, driveLifecycles } from "./lifecycle-driver.js";
import {
  computeFigures,
  type Floors,
  type RunRecord,
  renderRuns,
  renderSummary,
  summarize,
} from "./lifecycle-report.js";
import { saveMetrics } from "./metrics-scrape.js";
import { observeDatabase, type PgObserver, type ServerInfo } from "./pg-observer.js";
import { type PrivateRedis, startPrivateRedis } from "./private-redis.js";
import { commandCpuMs, processCpuMs } from "./proc-stat.js";
import { formatNumber } from "./report.js";
import { distProblem, httpReady, type SesameProcess, startSesameProcess, workersReady } from "./sesame-process.js";
import { measureSplitFloor, type SplitFloor } from "./split-floor.js";
import { sleep } from "./wait.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const REDIS_PREFIX = "sesame-bench";
/** GETs of one grant, one after another, to learn how many transactions one poll costs. */
const CALIBRATION_POLLS = 300;
/** Sesame's pools close connections idle for 10 s; a sweep may keep one a little longer. */
const SESSIONS_GONE_MS = 40_000;
/**
 * Sesame is never fully idle (the audit chainer, the sweeper and the lease heartbeat run on
 * timers), so its background transactions are measured over this long and subtracted.
 */
const BACKGROUND_SAMPLE_MS = 5_000;
/** PostgreSQL 15 publishes a busy session's counters at most once a second. */
const STATS_FLUSH_MS = 1_500;
const FLOOR_BULLMQ_JOBS = 5_000;
const FLOOR_BULLMQ_SERIAL_JOBS = 200;
const FLOOR_COMMIT_MS = 3_000;
const FLOOR_HTTP_MS = 3_000;
const FLOOR_SPLIT_SECONDS = 4;
const LOCK_SAMPLE_MS = 100;

interface Options {
  lifecycles: number;
  /**
   * Lifecycles before each measured run, at full concurrency, not counted: a fresh process spends
   * its first seconds compiling hot code, which is start-up, not the write path. Twenty were too few:
   * one process then needed 1.5 s of extra CPU in a 1,000-lifecycle run, two processes 3.8 s.
   */
  warmup: number;
  /** Two processes are `--role web` beside `--role worker`, not `--role all` beside `--role worker`. */
  split: boolean;
  concurrency: number;
  runs: number;
  json: boolean;
  pollMs: number;
  pollMaxMs: number;
  /** Poll for a grant's status instead of one read that waits for it (`?waitFor=`). */
  poll: boolean;
  timeoutMinutes: number;
  metricsDir?: string;
}

const USAGE =
  "usage: npm run bench -- [--lifecycles N] [--warmup N] [--split] [--concurrency N] [--runs N] [--poll [--poll-ms N] [--poll-max-ms N]] [--timeout-minutes N] [--json] [--metrics-dir DIR]";

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      lifecycles: { type: "string", default: "1000" },
      warmup: { type: "string", default: "1000" },
      split: { type: "boolean", default: false },
      concurrency: { type: "string", default: "50" },
      runs: { type: "string", default: "3" },
      poll: { type: "boolean", default: false },
      "poll-ms": { type: "string", default: "25" },
      "poll-max-ms": { type: "string", default: "250" },
      "timeout-minutes": { type: "string", default: "45" },
      json: { type: "boolean", default: false },
      "metrics-dir": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`--${name} must be a positive whole number (got ${text})`);
    return value;
  };
  return {
    lifecycles: positive("lifecycles", values.lifecycles),
    warmup: positive("warmup", values.warmup),
    split: values.split,
    concurrency: positive("concurrency", values.concurrency),
    runs: positive("runs", values.runs),
    pollMs: positive("poll-ms", values["poll-ms"]),
    pollMaxMs: positive("poll-max-ms", values["poll-max-ms"]),
    poll: values.poll,
    timeoutMinutes: positive("timeout-minutes", values["timeout-minutes"]),
    json: values.json,
    metricsDir: values["metrics-dir"],
  };
}

interface Machine {
  cores: number;
  node: string;
  loadAverage: { start: number[]; end: number[] };
  postgres: ServerInfo;
  redis: string;
  sesameLogLevel: string;
}

const progress = (message: string) => console.error(`[bench] ${message}`);

/** What every run shares: the private Redis, the database, the policy and its people. */
interface Bench {
  options: Options;
  redis: PrivateRedis;
  database: BenchDatabase;
  observer: PgObserver;
  cast: BenchCast;
  sesameEnv: Record<string, string>;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dist = distProblem(ROOT);
  if (dist?.fatal) throw new Error(dist.message);
  if (dist) progress(`warning: ${dist.message}`);

  const cleanup = createCleanup(progress);
  const interrupted = (signal: string) => {
    progress(`${signal}: stopping everything`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once("SIGINT", () => interrupted("SIGINT"));
  process.once("SIGTERM", () => interrupted("SIGTERM"));
  const watchdog = setTimeout(() => {
    progress(`still running after ${options.timeoutMinutes} min (--timeout-minutes): giving up`);
    void cleanup.run().finally(() => process.exit(1));
  }, options.timeoutMinutes * 60_000);

  try {
    const loadAtStart = loadavg();
    const redis = await startPrivateRedis();
    cleanup.defer("stop the private redis-server", () => redis.stop());
    const database = await createBenchDatabase(BENCH_POSTGRES_URL, "sesame_bench");
    cleanup.defer(`drop database ${database.name}`, () => database.drop());
    const observer = await observeDatabase(BENCH_POSTGRES_URL, database.name);
    cleanup.defer("close the statistics session", () => observer.close());
    const workDir = await mkdtemp(join(tmpdir(), "sesame-bench-"));
    cleanup.defer("remove the policy file", () => rm(workDir, { recursive: true, force: true }));
    progress(`redis-server ${redis.version} at ${redis.url}, database ${database.name}`);

    const cast = createCast(50, 10);
    const policyPath = join(workDir, "policy.yaml");
    await writeFile(policyPath, benchPolicyYaml(cast, { default: "1h", max: "30d" }));
    const bench: Bench = {
      options,
      redis,
      database,
      observer,
      cast,
      sesameEnv: {
        NODE_ENV: "production",
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        HOST: "127.0.0.1",
        SESAME_POLICY_FILE: policyPath,
        SESAME_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
        SESAME_API_TOKENS: apiTokensEnv(cast),
        SESAME_REDIS_PREFIX: REDIS_PREFIX,
        SESAME_RATE_LIMIT: "10000000",
      },
    };

    // Alternating 1, 2, 1, 2…: a load that drifts during the bench touches both alike.
    const plan = Array.from({ length: options.runs }, () => [1, 2]).flat();
    const runs: RunRecord[] = [];
    let xactsPerPoll: number | undefined;
    for (const [index, processes] of plan.entries()) {
      const label = `run ${index + 1}/${plan.length} (${processes} process${processes === 1 ? "" : "es"})`;
      const record = await measureRun(bench, index + 1, processes, label, cleanup, async (api) => {
        xactsPerPoll ??= await calibratePolling(bench, api);
        return xactsPerPoll;
      });
      runs.push(record);
      progress(
        `${label}: ${formatNumber(record.figures.lifecyclesPerSecond)} lifecycles/s, ` +
          `${record.figures.failed} failed, load ${loadavg()[0]!.toFixed(2)}`,
      );
    }

    const server = await observer.serverInfo();
    const machine: Machine = {
      cores: cpus().length,
      node: process.version,
      loadAverage: { start: loadAtStart, end: loadavg() },
      postgres: server,
      redis: redis.version,
      sesameLogLevel: "info (Sesame's default)",
    };
    const report = {
      machine,
      options: { ...options, requesters: cast.requesters.length, approvers: cast.approvers.length },
      xactsPerPoll,
      summary: summarize(runs),
      runs,
    };
    if (options.json) console.log(JSON.stringify(report, null, 2));
    else console.log(renderText(machine, options, report.summary, runs, xactsPerPoll ?? Number.NaN));
  } finally {
    clearTimeout(watchdog);
    await cleanup.run();
  }
}

/**
 * One run: start Sesame (plus a worker), warm it up, measure the floors, then the lifecycles
 * with Sesame's CPU time, the database's commit counter and its advisory-lock waiters around them.
 */
async function measureRun(
  bench: Bench,
  run: number,
  processes: number,
  label: string,
  cleanup: Cleanup,
  xactsPerPoll: (api: SesameApi) => Promise<number>,
): Promise<RunRecord> {
  const { options, observer, cast } = bench;
  const problems: string[] = [];
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = { ...bench.sesameEnv, PORT: String(port) };
  progress(`${label}: starting Sesame`);
  const sesame: SesameProcess[] = [];
  cleanup.defer(`stop Sesame of ${label}`, async () => {
    for (const p of sesame) await p.stop();
  });
  const firstRole = processes === 2 && options.split ? "web" : "all";
  sesame.push(await startSesameProcess(ROOT, firstRole, env, httpReady(baseUrl)));
  const metricsUrls = { [firstRole]: `${baseUrl}/metrics` } as Record<string, string>;
  if (processes === 2) {
    const metricsPort = await freePort();
    metricsUrls.worker = `http://127.0.0.1:${metricsPort}/metrics`;
    const workerEnv = { ...env, SESAME_METRICS_PORT: String(metricsPort) };
    sesame.push(
      await startSesameProcess(
        ROOT,
        "worker",
        workerEnv,
        workersReady(bench.redis.url, REDIS_PREFIX, firstRole === "all" ? 2 : 1),
      ),
    );
  }

  // A Sesame process dying mid-run ends the run instead of letting every lifecycle time out.
  const died = new AbortController();
  const stillAlive = () => {
    if (died.signal.aborted) throw new Error(problems.join("\n"));
  };
  let stopping = false;
  for (const p of sesame)
    void p.child.exited.then((exit) => {
      if (stopping) return;
      problems.push(`sesame --role ${p.role} ${describeExit(exit)} during the run:\n${p.child.tail()}`);
      died.abort();
    });

  const driver = (lifecycles: number, concurrency: number): Omit<DriverOptions, "signal"> => ({
    lifecycles,
    concurrency,
    resource: BENCH_RESOURCE,
    duration: "1h",
    pollMs: options.pollMs,
    pollMaxMs: Math.max(options.pollMs, options.pollMaxMs),
    waitInSesame: !options.poll,
    waitDeadlineMs: 60_000,
  });
  const warmup = await driveLifecycles(createApi(baseUrl), cast, {
    ...driver(options.warmup, options.concurrency),
    signal: died.signal,
  });
  if (warmup.failures.length > 0)
    problems.push(`${warmup.failures.length} warm-up lifecycles failed, e.g. ${warmup.failures[0]!.detail}`);
  stillAlive();
  const floors = await measureFloors(bench, baseUrl, sesame[0]!);
  const perPoll = await xactsPerPoll(createApi(baseUrl));
  stillAlive();

  const background = await backgroundRate(observer);
  const loadBefore = loadavg();
  const xactsBefore = await observer.xactCommit();
  const runStarted = performance.now();
  const cpuBefore = sesame.map((p) => p.cpuMs());
  const syscallsBefore = sesame.map((p) => p.syscalls());
  const benchCpuBefore = process.cpuUsage();
  const postgresCpuBefore = commandCpuMs("postgres");
  const redisCpuBefore = processCpuMs(bench.redis.child.pid);
  const sampler = observer.sampleLocks(LOCK_SAMPLE_MS);
  progress(`${label}: ${options.lifecycles} lifecycles, ${options.concurrency} at a time`);
  const api = createApi(baseUrl);
  const result = await driveLifecycles(api, cast, {
    ...driver(options.lifecycles, options.concurrency),
    signal: died.signal,
  });
  const locks = await sampler.stop();
  const cpuUsed = sesame.map((p, i) => (p.child.running() ? p.cpuMs() - cpuBefore[i]! : 0));
  const sesameCpuMs = cpuUsed.reduce((sum, ms) => sum + ms, 0);
  const sesameSyscalls = sesame.reduce(
    (sum, p, i) => {
      if (!p.child.running()) return sum;
      const now = p.syscalls();
      return {
        reads: sum.reads + now.reads - syscallsBefore[i]!.reads,
        writes: sum.writes + now.writes - syscallsBefore[i]!.writes,
      };
    },
    { reads: 0, writes: 0 },
  );
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const postgresCpuMs = commandCpuMs("postgres") - postgresCpuBefore;
  const redisCpuMs = processCpuMs(bench.redis.child.pid) - redisCpuBefore;
  const loadAfter = loadavg();

  if (options.metricsDir) await saveMetrics(options.metricsDir, `run-${run}-${processes}p`, metricsUrls, problems);

  // Stopping Sesame ends its sessions, which makes PostgreSQL count their last transactions.
  stopping = true;
  const logs = Object.fromEntries(sesame.map((p) => [p.role, p.logs()]));
  for (const p of sesame) {
    const exit = await p.stop();
    if (exit.code !== 0) problems.push(`sesame --role ${p.role} ${describeExit(exit)} when asked to stop`);
  }
  if (!(await observer.waitForNoSessions(SESSIONS_GONE_MS)))
    problems.push("database sessions remained after Sesame stopped: the transaction count may be short");
  // What Sesame's timers committed meanwhile is not the write path's.
  const xacts = Math.max(
    0,
    (await observer.xactCommit()) - xactsBefore - background * (performance.now() - runStarted),
  );
  const [grantStatuses, requestStatuses] = await statusCounts(bench.database);
  for (const [status, count] of Object.entries(grantStatuses))
    if (status !== "revoked") problems.push(`${count} grants are ${status} after the run (not revoked)`);

  return {
    run,
    processes,
    loadAverage: { before: loadBefore, after: loadAfter },
    figures: computeFigures({
      driver: result,
      api: api.tally(),
      sesameCpuMs,
      // The first process started serves the API.
      apiProcessCpuMs: cpuUsed[0] ?? 0,
      processes,
      sesameSyscalls,
      benchCpuMs: (benchCpu.user + benchCpu.system) / 1000,
      postgresCpuMs,
      redisCpuMs,
      xacts,
      xactsPerPoll: perPoll,
      locks,
    }),
    floors,
    api: api.tally(),
    failureSamples: result.failures.slice(0, 5),
    grantStatuses,
    requestStatuses,
    logs,
    lockSamples: locks,
    problems,
  };
}

/** The floors, with Sesame up but idle: BullMQ and PostgreSQL alone, and Sesame's cheapest route. */
async function measureFloors(bench: Bench, baseUrl: string, web: SesameProcess): Promise<Floors> {
  const bullmq = await measureBullmq(bench.redis.url, {
    jobs: FLOOR_BULLMQ_JOBS,
    concurrency: 50,
    serialJobs: FLOOR_BULLMQ_SERIAL_JOBS,
  });
  const commits = await measureCommits(bench.database.url, FLOOR_COMMIT_MS);
  const cpuBefore = web.cpuMs();
  const healthz = await measureHttp(`${baseUrl}/healthz`, {
    concurrency: bench.options.concurrency,
    durationMs: FLOOR_HTTP_MS,
  });
  const healthzCpuMsPerRequest = (web.cpuMs() - cpuBefore) / Math.max(1, healthz.latency.count);
  const split = await measureSplitFloor(bench.database.url, {
    concurrency: bench.options.concurrency,
    seconds: FLOOR_SPLIT_SECONDS,
  });
  return { bullmq, commits, healthz, healthzCpuMsPerRequest, split };
}

/**
 * How many transactions one poll (GET /api/v1/grants/:id) costs Sesame, measured rather than
 * assumed: the bench's polling is then told apart from the write path in the transaction count.
 */
async function calibratePolling(bench: Bench, api: SesameApi): Promise<number> {
  const holder = bench.cast.requesters[0]!;
  const listed = await api.call(holder.token, "GET", "/api/v1/grants?limit=1");
  const grants = (listed.body as { grants?: unknown[] } | undefined)?.grants;
  const grantId = stringField(grants?.[0], "id");
  if (listed.status !== 200 || !grantId) throw new Error("calibration: the warm-up left no grant to poll");
  const background = await backgroundRate(bench.observer);
  const before = await bench.observer.xactCommit();
  const started = performance.now();
  for (let i = 0; i < CALIBRATION_POLLS; i++) {
    const answer = await api.call(holder.token, "GET", `/api/v1/grants/${grantId}`);
    if (answer.status !== 200) throw new Error(`calibration: GET of a grant answered ${answer.status}`);
  }
  await sleep(STATS_FLUSH_MS);
  const polled = (await bench.observer.xactCommit()) - before - background * (performance.now() - started);
  return Math.max(0, polled) / CALIBRATION_POLLS;
}

/** Sesame's own transactions per millisecond while nobody calls it (its timers). */
async function backgroundRate(observer: PgObserver): Promise<number> {
  await sleep(STATS_FLUSH_MS);
  const before = await observer.xactCommit();
  const started = performance.now();
  await sleep(BACKGROUND_SAMPLE_MS);
  return ((await observer.xactCommit()) - before) / (performance.now() - started);
}

/** Grants and requests by status, read straight from Sesame's tables. */
async function statusCounts(database: BenchDatabase): Promise<[Record<string, number>, Record<string, number>]> {
  return withClient(databaseUrl(database.serverUrl, database.name), async (client) => {
    const count = async (table: string) => {
      const { rows } = await client.query<{ status: string; count: number }>(
        `SELECT status::text AS status, count(*)::int AS count FROM "${table}" GROUP BY 1 ORDER BY 1`,
      );
      return Object.fromEntries(rows.map((r) => [r.status, r.count]));
    };
    return [await count("Grant"), await count("AccessRequest")];
  });
}

function renderText(
  machine: Machine,
  options: Options,
  summary: ReturnType<typeof summarize>,
  runs: readonly RunRecord[],
  xactsPerPoll: number,
): string {
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(" ");
  const lines = [
    `Sesame lifecycle bench: ${options.lifecycles} lifecycles per run after ${options.warmup} not counted, ${options.concurrency} concurrent requesters, ` +
      `median of ${options.runs} run${options.runs === 1 ? "" : "s"} each with 1 and 2 processes` +
      (options.split ? " (2: --role web beside --role worker), " : " (2: --role all beside --role worker), ") +
      (options.poll
        ? `polls ${options.pollMs} ms apart backing off to ${options.pollMaxMs} ms (a wait reads long by up to one pause)`
        : "each wait for a grant's status is one read Sesame answers when the status is reached (?waitFor=)"),
    `machine: ${machine.cores} cores, Node ${machine.node}, PostgreSQL ${machine.postgres.version} ` +
      `(fsync ${machine.postgres.fsync}, synchronous_commit ${machine.postgres.synchronousCommit}), redis ${machine.redis}, ` +
      `Sesame logging at ${machine.sesameLogLevel}`,
    `load average (1/5/15 min): start ${load(machine.loadAverage.start)}, end ${load(machine.loadAverage.end)}`,
    `one poll (GET /api/v1/grants/:id) costs ${formatNumber(xactsPerPoll)} transactions`,
    splitFloorLine(summary.floors.split, options.concurrency),
    ...hottestLocks(runs),
    "",
    renderSummary(summary),
    "",
    "Runs in order (lc = lifecycle):",
    renderRuns(runs),
  ];
  const problems = runs.flatMap((r) => r.problems.map((p) => `run ${r.run}: ${p}`));
  const failures = runs.flatMap((r) => r.failureSamples.map((f) => `run ${r.run}: ${f.step}: ${f.detail}`));
  const unexpected = runs.flatMap((r) =>
    Object.entries(r.api.byStatus)
      .filter(([status]) => !["200", "201"].includes(status))
      .map(
        ([status, count]) => `run ${r.run}: ${count} answers with HTTP ${status === "0" ? "none (no answer)" : status}`,
      ),
  );
  const logged = runs.flatMap((r) =>
    Object.entries(r.logs)
      .filter(([, log]) => log.warnings + log.errors + log.stderrLines > 0)
      .map(
        ([role, log]) =>
          `run ${r.run}: --role ${role} logged ${log.warnings} warnings, ${log.errors} errors, ${log.stderrLines} stderr lines; ` +
          `e.g. ${log.samples.slice(0, 3).join(" | ")}`,
      ),
  );
  const notes = [...problems, ...failures, ...unexpected, ...logged];
  lines.push("", notes.length > 0 ? "Problems seen:" : "No errors, unexpected answers or stuck grants.");
  lines.push(...notes.map((note) => `  ${note}`));
  return lines.join("\n");
}

/** The floor of the 2p/1p column: how much a plain workload loses when split between two processes here. */
function splitFloorLine(split: SplitFloor, concurrency: number): string {
  return (
    `floor of 2p/1p (median of all runs): a plain node-postgres loop (a transaction and a read, ${concurrency} loops, a connection each) did ` +
    `${formatNumber(split.oneProcess)} operations/s from one process and ${formatNumber(split.twoProcesses)} from two: ` +
    `${formatNumber(split.twoProcesses / split.oneProcess)}; its Node CPU per operation ${formatNumber(split.cpuMsPerOperation.oneProcess)} → ` +
    `${formatNumber(split.cpuMsPerOperation.twoProcesses)} ms`
  );
}

/**
 * Which advisory lock the waiting sessions queued for, per run, to find it in the source; and
 * which kind of lock of any kind (row, relation, the server-wide NOTIFY lock `object 1262:0`).
 */
function hottestLocks(runs: readonly RunRecord[]): string[] {
  const byKey = new Map<string, string[]>();
  const byKind = new Map<string, string[]>();
  for (const r of runs) {
    const top = r.lockSamples.mostWaitedFor;
    if (top) byKey.set(top.key, [...(byKey.get(top.key) ?? []), `run ${r.run} ${Math.round(top.share * 100)}%`]);
    const kind = r.lockSamples.mostWaitedKind;
    if (kind)
      byKind.set(kind.kind, [...(byKind.get(kind.kind) ?? []), `run ${r.run} ${Math.round(kind.share * 100)}%`]);
  }
  return [
    ...[...byKey].map(
      ([key, shares]) => `advisory lock most waited for: key ${key} (its share of all waits: ${shares.join(", ")})`,
    ),
    ...[...byKind].map(
      ([kind, shares]) => `lock most waited for, of any kind: ${kind} (its share of all waits: ${shares.join(", ")})`,
    ),
  ];
}

main().catch((error: unknown) => {
  console.error(`[bench] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
