/**
 * `npm run bench:admission`: the Kubernetes admission webhook as a cluster sees it. Starts a
 * private redis-server, a database of its own on the local PostgreSQL and two Sesame processes
 * from `dist/` (build first with `npm run build`), deployed as in manifest/kubernetes: A
 * (`--role web`) answers the reviews; B (`--role all`: the workers, the sweeper, the audit chainer,
 * and an API) is the second process, where an admin revokes.
 *
 * 1. Grants `prod-exec` to the holders through A's REST API (request, approve, active).
 * 2. Drives `--per-second` reviews/s at A's POST /k8s/admission for `--seconds` (open loop:
 *    holders allowed, others refused, other namespaces unguarded), next to GET /healthz driven the
 *    same way just before and just after: the floor of the same process on the same machine.
 * 3. Revokes each holder's grant through B while probing A: the time from sending the revoke to
 *    A's first refusal, across processes (grant changes through Redis pub/sub).
 *
 *   npm run bench:admission -- [--per-second 200] [--seconds 20] [--holders 20] [--json]
 *
 * BENCH_POSTGRES_URL names the server (default postgresql://postgres@127.0.0.1:5432/postgres).
 * Progress goes to stderr, the report to stdout.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  type AdmissionCast,
  admissionPolicyYaml,
  apiTokens,
  createAdmissionCast,
  execReviewBody,
  GUARDED_RESOURCE,
  usernameOf,
} from "./admission-policy.js";
import { BENCH_POSTGRES_URL, createBenchDatabase, withClient } from "./bench-database.js";
import type { BenchPerson } from "./bench-policy.js";
import { createCleanup } from "./cleanup.js";
import { freePort } from "./free-port.js";
import { createApi, describeAnswer, type SesameApi, stringField } from "./http-api.js";
import { createKeepAliveClient } from "./keep-alive-client.js";
import { driveOpenLoop, type OpenLoopResult } from "./open-loop.js";
import { startPrivateRedis } from "./private-redis.js";
import { formatNumber, formatRatio, renderTable } from "./report.js";
import { distProblem, httpReady, type SesameProcess, startSesameProcess } from "./sesame-process.js";
import { spread } from "./stats.js";
import { sleep, waitUntil } from "./wait.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const WARMUP_MS = 3_000;
/** A revoke not seen by the other process within this is reported as missed. */
const REFUSAL_DEADLINE_MS = 10_000;
const progress = (message: string) => console.error(`[bench] ${message}`);

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      "per-second": { type: "string", default: "200" },
      seconds: { type: "string", default: "20" },
      holders: { type: "string", default: "20" },
      json: { type: "boolean", default: false },
    },
  });
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`--${name} must be a positive whole number (got ${text})`);
    return value;
  };
  return {
    perSecond: positive("per-second", values["per-second"]),
    seconds: positive("seconds", values.seconds),
    holders: positive("holders", values.holders),
    json: values.json,
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dist = distProblem(ROOT);
  if (dist?.fatal) throw new Error(dist.message);
  if (dist) progress(`warning: ${dist.message}`);
  const cleanup = createCleanup(progress);
  process.once("SIGINT", () => void cleanup.run().finally(() => process.exit(130)));
  try {
    const loadAtStart = loadavg();
    const redis = await startPrivateRedis();
    cleanup.defer("stop the private redis-server", () => redis.stop());
    const database = await createBenchDatabase(BENCH_POSTGRES_URL, "sesame_bench_admission");
    cleanup.defer(`drop database ${database.name}`, () => database.drop());
    const workDir = await mkdtemp(join(tmpdir(), "sesame-bench-admission-"));
    cleanup.defer("remove the policy file", () => rm(workDir, { recursive: true, force: true }));
    const cast = createAdmissionCast(options.holders, options.holders);
    const policyPath = join(workDir, "policy.yaml");
    await writeFile(policyPath, admissionPolicyYaml(cast));
    const env = {
      NODE_ENV: "production",
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      HOST: "127.0.0.1",
      SESAME_POLICY_FILE: policyPath,
      SESAME_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      SESAME_API_TOKENS: apiTokens(cast),
      SESAME_REDIS_PREFIX: "sesame-bench-admission",
      SESAME_RATE_LIMIT: "10000000",
      // The bench drives reviews over plain HTTP, beside /healthz on the same port.
      SESAME_ADMISSION_PLAIN_HTTP: "true",
    };
    const processes: SesameProcess[] = [];
    cleanup.defer("stop Sesame", async () => {
      for (const p of processes) await p.stop();
    });
    const [portA, portB] = [await freePort(), await freePort()];
    const urlA = `http://127.0.0.1:${portA}`;
    const urlB = `http://127.0.0.1:${portB}`;
    progress("starting Sesame A (--role web) and B (--role all)");
    processes.push(await startSesameProcess(ROOT, "all", { ...env, PORT: String(portB) }, httpReady(urlB)));
    processes.push(await startSesameProcess(ROOT, "web", { ...env, PORT: String(portA) }, httpReady(urlA)));
    const webA = processes[1]!;
    /** Runs a phase and adds process A's CPU time per answered request. */
    const withCpu = async (phase: () => Promise<OpenLoopResult>) => {
      const before = webA.cpuMs();
      const result = await phase();
      return { ...result, cpuMsPerRequest: (webA.cpuMs() - before) / Math.max(1, result.latency.count) };
    };

    progress(`granting ${GUARDED_RESOURCE} to ${cast.holders.length} holders`);
    const apiA = createApi(urlA);
    const grants = new Map<string, string>();
    for (const holder of cast.holders) grants.set(holder.id, await activeGrant(apiA, cast, holder));
    for (const holder of cast.holders)
      await waitUntil(
        `A's view to hold ${holder.id}'s grant`,
        async () => (await review(urlA, holder.id, "prod")) === true,
        {
          timeoutMs: 30_000,
          intervalMs: 20,
        },
      );

    let guardedSent = 0;
    const driveReviews = (durationMs: number) =>
      driveOpenLoop({
        perSecond: options.perSecond,
        durationMs,
        send: async (index) => {
          // Holders and others alternate; one review in ten is in a namespace no guardrail covers.
          const pool = index % 2 === 0 ? cast.holders : cast.others;
          const who = pool[Math.floor(index / 2) % pool.length]!;
          const namespace = index % 10 === 9 ? "staging" : "prod";
          const expected = namespace !== "prod" || pool === cast.holders;
          if (namespace === "prod") guardedSent += 1;
          const allowed = await review(urlA, who.id, namespace);
          if (typeof allowed === "string") return allowed;
          return allowed === expected ? undefined : `answered allowed=${allowed}, expected ${expected}`;
        },
      });
    const driveHealthz = (durationMs: number) =>
      driveOpenLoop({
        perSecond: options.perSecond,
        durationMs,
        send: async () => {
          const answer = await client.send("GET", `${urlA}/healthz`);
          return answer.status === 200 ? undefined : `HTTP ${answer.status}`;
        },
      });
    await sleep(2_000); // the readiness probes' own audit events are written first
    const auditBefore = await countAdmissionEvents(database.url);
    progress("warming up");
    await driveHealthz(WARMUP_MS);
    await driveReviews(WARMUP_MS);
    const durationMs = options.seconds * 1000;
    const loadBefore = loadavg();
    progress(`/healthz floor: ${options.perSecond}/s for ${options.seconds}s`);
    const floorBefore = await withCpu(() => driveHealthz(durationMs));
    progress(`admission reviews: ${options.perSecond}/s for ${options.seconds}s`);
    const reviews = await withCpu(() => driveReviews(durationMs));
    progress("/healthz floor again");
    const floorAfter = await withCpu(() => driveHealthz(durationMs));
    const loadAfter = loadavg();
    const guardedReviews = guardedSent;
    await sleep(2_000); // audit batches are written every half second
    const auditWritten = (await countAdmissionEvents(database.url)) - auditBefore;

    progress(`revoking ${cast.holders.length} grants through B while A is probed`);
    const revokes = await measureRevokes(urlA, createApi(urlB), cast, grants);
    const report = {
      machine: { cores: cpus().length, node: process.version, loadAverage: { start: loadAtStart, end: loadavg() } },
      options,
      load: { before: loadBefore, after: loadAfter },
      floorBefore,
      reviews,
      floorAfter,
      audit: { guardedReviews, written: auditWritten },
      revokes,
      logs: Object.fromEntries(processes.map((p) => [p.role, p.logs()])),
    };
    console.log(options.json ? JSON.stringify(report, null, 2) : renderReport(report));
  } finally {
    client.close();
    await cleanup.run();
  }
}

/** Request, approval, activation through A's REST API; the grant id. */
async function activeGrant(api: SesameApi, cast: AdmissionCast, holder: BenchPerson): Promise<string> {
  const created = await api.call(holder.token, "POST", "/api/v1/requests", { resource: GUARDED_RESOURCE });
  const requestId = stringField(created.body, "id");
  if (created.status !== 201 || !requestId) throw new Error(`request: ${describeAnswer(created)}`);
  const approved = await api.call(cast.approver.token, "POST", `/api/v1/requests/${requestId}/approve`, {});
  const grantId = stringField(approved.body, "grant");
  if (approved.status !== 200 || !grantId) throw new Error(`approve: ${describeAnswer(approved)}`);
  await waitUntil(
    `grant ${grantId} to be active`,
    async () =>
      stringField((await api.call(holder.token, "GET", `/api/v1/grants/${grantId}`)).body, "status") === "active",
    { timeoutMs: 60_000, intervalMs: 50 },
  );
  return grantId;
}

const client = createKeepAliveClient();

/** true/false: the answer; a string: what went wrong. */
async function review(baseUrl: string, personId: string, namespace: string): Promise<boolean | string> {
  const body = execReviewBody(randomUUID(), usernameOf(personId), namespace);
  const answer = await client.send("POST", `${baseUrl}/k8s/admission`, body);
  if (answer.status !== 200) return `HTTP ${answer.status}`;
  const allowed = (JSON.parse(answer.text) as { response?: { allowed?: unknown } }).response?.allowed;
  return typeof allowed === "boolean" ? allowed : "no response.allowed";
}

interface RevokeFigures {
  /** From sending the revoke to B until A's first refusal. */
  fromSend: number[];
  /** From B's answer (the revoke committed) until A's first refusal; negative when A refused first. */
  fromCommit: number[];
  missed: string[];
}

/** Each holder's grant revoked through B, with A probed back to back until it refuses. */
async function measureRevokes(
  urlA: string,
  apiB: SesameApi,
  cast: AdmissionCast,
  grants: Map<string, string>,
): Promise<RevokeFigures> {
  const figures: RevokeFigures = { fromSend: [], fromCommit: [], missed: [] };
  for (const holder of cast.holders) {
    const grantId = grants.get(holder.id)!;
    let refusedAt: number | undefined;
    let stop = false;
    const probe = (async () => {
      while (!stop && refusedAt === undefined) {
        if ((await review(urlA, holder.id, "prod")) === false) refusedAt = performance.now();
      }
    })();
    const sent = performance.now();
    const answer = await apiB.call(cast.admin.token, "POST", `/api/v1/grants/${grantId}/revoke`, { reason: "bench" });
    const committed = performance.now();
    if (answer.status !== 200) figures.missed.push(`${grantId}: revoke answered ${describeAnswer(answer)}`);
    const deadline = setTimeout(() => {
      stop = true;
    }, REFUSAL_DEADLINE_MS);
    await probe;
    clearTimeout(deadline);
    if (refusedAt === undefined)
      figures.missed.push(`${grantId}: still allowed ${REFUSAL_DEADLINE_MS} ms after the revoke`);
    else {
      figures.fromSend.push(refusedAt - sent);
      figures.fromCommit.push(refusedAt - committed);
    }
  }
  return figures;
}

async function countAdmissionEvents(url: string): Promise<number> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM "AuditEvent" WHERE type LIKE 'admission.%'`,
    );
    return rows[0]!.count;
  });
}

type Measured = OpenLoopResult & { cpuMsPerRequest: number };

function renderReport(report: {
  machine: { cores: number; node: string; loadAverage: { start: number[]; end: number[] } };
  options: ReturnType<typeof parseOptions>;
  load: { before: number[]; after: number[] };
  floorBefore: Measured;
  reviews: Measured;
  floorAfter: Measured;
  audit: { guardedReviews: number; written: number };
  revokes: RevokeFigures;
  logs: Record<string, { warnings: number; errors: number; stderrLines: number; samples: string[] }>;
}): string {
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(" ");
  const ms = (value: number) => `${formatNumber(value)} ms`;
  const row = (name: string, result: Measured, floor?: Measured) => [
    name,
    formatNumber(result.achievedPerSecond),
    ms(result.latency.p50),
    ms(result.latency.p99),
    floor ? formatRatio(result.latency.p99, floor.latency.p99) : "",
    ms(result.cpuMsPerRequest),
    floor ? formatRatio(result.cpuMsPerRequest, floor.cpuMsPerRequest) : "",
    String(Object.values(result.failures).reduce((sum, n) => sum + n, 0)),
    String(result.sentLate),
  ];
  const fromSend = spread(report.revokes.fromSend);
  const fromCommit = spread(report.revokes.fromCommit);
  const worst = Math.max(...report.revokes.fromCommit);
  const lines = [
    `Sesame admission bench: ${report.options.perSecond} requests/s for ${report.options.seconds} s each, open loop, ` +
      `${report.options.holders} grant holders and ${report.options.holders} people without a grant`,
    `machine: ${report.machine.cores} cores, Node ${report.machine.node}; load average (1/5/15 min) ` +
      `start ${load(report.machine.loadAverage.start)}, end ${load(report.machine.loadAverage.end)}; ` +
      `during the load ${load(report.load.before)} → ${load(report.load.after)}`,
    "",
    renderTable(
      [
        "process A",
        "answered/s",
        "p50",
        "p99",
        "p99 vs floor",
        "A's CPU/request",
        "CPU vs floor",
        "wrong/failed",
        "sent >5 ms late",
      ],
      [
        row("GET /healthz (floor, before)", report.floorBefore),
        row("POST /k8s/admission", report.reviews, report.floorBefore),
        row("GET /healthz (floor, after)", report.floorAfter),
      ],
      ["left", "right", "right", "right", "right", "right", "right", "right", "right"],
    ),
    `p99 of reviews vs the slower floor: ${formatRatio(
      report.reviews.latency.p99,
      Math.max(report.floorBefore.latency.p99, report.floorAfter.latency.p99),
    )}; target p99 ≤ 20 ms: ${report.reviews.latency.p99 <= 20 ? "met" : "NOT met"}`,
    `audit events for the guarded reviews sent (warm-up included): ${report.audit.written} written of ${report.audit.guardedReviews}`,
    "",
    `revoked through process B, refused by process A (${fromSend.count} revokes):`,
    `  from sending the revoke to B:         p50 ${ms(fromSend.p50)}, p99 ${ms(fromSend.p99)} (B's own revoke time included)`,
    `  from B's answer (revoke committed):  p50 ${ms(fromCommit.p50)}, p99 ${ms(fromCommit.p99)}, max ${ms(worst)}`,
    `  refused within 1 s of every committed revoke: ${report.revokes.missed.length === 0 && worst <= 1000 ? "yes" : "NO"}`,
  ];
  const problems = [
    ...report.revokes.missed,
    ...Object.entries(report.reviews.failures).map(([why, n]) => `${n} reviews: ${why}`),
    ...Object.entries(report.floorBefore.failures).map(([why, n]) => `${n} /healthz (before): ${why}`),
    ...Object.entries(report.floorAfter.failures).map(([why, n]) => `${n} /healthz (after): ${why}`),
    ...Object.entries(report.logs)
      .filter(([, log]) => log.errors + log.warnings + log.stderrLines > 0)
      .map(
        ([role, log]) =>
          `--role ${role}: ${log.warnings} warnings, ${log.errors} errors; e.g. ${log.samples.slice(0, 3).join(" | ")}`,
      ),
  ];
  lines.push("", problems.length === 0 ? "No wrong answers, failures or warnings." : "Problems seen:");
  lines.push(...problems.map((p) => `  ${p}`));
  return lines.join("\n");
}

main().catch((error: unknown) => {
  console.error(`[bench] failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
