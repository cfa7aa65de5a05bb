/**
 * `npm run bench:chat-ack`: how fast Sesame acknowledges Slack, and whether any acknowledged
 * action is lost. Starts a private redis-server, a database of its own on the local PostgreSQL,
 * a local stand-in for Slack's Web API and response_url (no real Slack here), and Sesame from
 * `dist/` (build first with `npm run build`), with SESAME_RATE_LIMIT set high.
 *
 * In one run, each phase `--count` signed requests to POST /slack/events, `--concurrency` at once:
 *   1. the floor: signed `url_verification` (verified and answered, no work) on the same route;
 *   2. approve clicks (block_actions) on `--count` pending requests made through the REST API;
 *   3. slash commands `/request-access bench 30m …`, each with its own response_url;
 *   4. the floor again.
 * Then it waits for every stored action to finish and counts the lost: acknowledged (200) but
 * neither applied (request approved / created) nor reported to the person. Each phase also
 * reports the acking process's CPU time per request, which a busy machine does not change much.
 * Warm-up: 200 url_verification, 50 `help` commands and 50 clicks on requests of their own.
 *
 * `--workers N` starts Sesame as a scaled-out install does: one `--role web` process that acks,
 * beside N `--role worker` processes that do the stored work (default 0: one `--role all`).
 *
 *   npm run bench:chat-ack -- [--count 1000] [--concurrency 50] [--workers 1] [--json]
 *
 * BENCH_POSTGRES_URL names the server (default postgresql://postgres@127.0.0.1:5432/postgres).
 * Progress goes to stderr, the report to stdout.
 */

import { execFileSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BENCH_POSTGRES_URL, createBenchDatabase, withClient } from "./bench-database.js";
import { createCleanup } from "./cleanup.js";
import { freePort } from "./free-port.js";
import { createApi } from "./http-api.js";
import { startPrivateRedis } from "./private-redis.js";
import { formatNumber, formatRatio, renderTable } from "./report.js";
import { distProblem, httpReady, type SesameProcess, startSesameProcess, workersReady } from "./sesame-process.js";
import { startSlackBenchStandIn } from "./slack-stand-in.js";
import { type Spread, spread } from "./stats.js";
import { sleep } from "./wait.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SECRET = randomBytes(16).toString("hex");
const REQUESTERS = 20;
const WARM_UP_CLICKS = 50;
const APPROVER_SLACK = "U0APPROVER";
const progress = (message: string) => console.error(`[bench] ${message}`);

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: "string", default: "1000" },
      concurrency: { type: "string", default: "50" },
      json: { type: "boolean", default: false },
      // 0: one `--role all` process; N: a `--role web` process that acks, beside N `--role worker` processes.
      workers: { type: "string", default: "0" },
      // With --workers: start them only after the timed phases, as if they ran on other machines.
      "defer-workers": { type: "boolean", default: false },
    },
  });
  const positive = (name: string, text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`--${name} must be a positive whole number (got ${text})`);
    return value;
  };
  if (values["defer-workers"] && values.workers === "0") throw new Error("--defer-workers needs --workers N");
  return {
    count: positive("count", values.count),
    concurrency: positive("concurrency", values.concurrency),
    json: values.json,
    workers: values.workers === "0" ? 0 : positive("workers", values.workers),
    deferWorkers: values["defer-workers"],
  };
}

const requesterIds = Array.from({ length: REQUESTERS }, (_, i) => `r${i}`);
const tokenOf = (id: string) => `bench-token-${id}-${"x".repeat(24)}`;

function policyYaml(): string {
  const people = [
    `  - { id: approver, email: approver@example.com, name: Approver, slack: ${APPROVER_SLACK} }`,
    ...requesterIds.map((id, i) => `  - { id: ${id}, email: ${id}@example.com, name: ${id}, slack: U0R${i} }`),
  ];
  return `version: 1
people:
${people.join("\n")}
connectors:
  noop: { type: noop, config: {} }
resources:
  bench: { connector: noop, principal: "{{ id }}" }
policies:
  - id: bench
    resources: [bench]
    requesters: { users: [${requesterIds.join(", ")}] }
    duration: { default: 30m, max: 2h }
    reason: { required: false }
    approvers: { users: [approver] }
`;
}

/** Signed POSTs to /slack/events over keep-alive sockets, with the answer's latency. */
function createSlackSender(url: string, concurrency: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const send = (body: string, contentType: string): Promise<{ status: number; ms: number }> => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac("sha256", SECRET).update(`v0:${timestamp}:${body}`).digest("hex")}`;
    const started = performance.now();
    return new Promise((resolveAnswer) => {
      const req = request(
        `${url}/slack/events`,
        {
          method: "POST",
          agent,
          headers: {
            "content-type": contentType,
            "content-length": Buffer.byteLength(body),
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": signature,
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolveAnswer({ status: res.statusCode ?? 0, ms: performance.now() - started }));
          res.on("error", () => resolveAnswer({ status: 0, ms: performance.now() - started }));
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error("no answer within 10 s")));
      req.on("error", () => resolveAnswer({ status: 0, ms: performance.now() - started }));
      req.end(body);
    });
  };
  return { send, close: () => agent.destroy() };
}

interface Phase {
  latency: Spread;
  acked: number;
  notAcked: number;
  /** CPU time of the acking process per request (all its threads): holds on a busy machine. */
  cpuMsPerAck: number;
}

/** Sends every body, `concurrency` at a time (closed loop), and returns the ack latencies. */
async function drive(
  bodies: readonly { body: string; contentType: string }[],
  concurrency: number,
  send: ReturnType<typeof createSlackSender>["send"],
  cpuMs: () => number,
  acked?: (index: number) => void,
): Promise<Phase> {
  const latencies: number[] = [];
  const cpuBefore = cpuMs();
  let next = 0;
  let notAcked = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const index = next++;
        const { body, contentType } = bodies[index]!;
        const answer = await send(body, contentType);
        if (answer.status === 200) {
          latencies.push(answer.ms);
          acked?.(index);
        } else notAcked += 1;
      }
    }),
  );
  const cpuMsPerAck = (cpuMs() - cpuBefore) / Math.max(1, bodies.length);
  return { latency: spread(latencies), acked: latencies.length, notAcked, cpuMsPerAck };
}

const FORM = "application/x-www-form-urlencoded";
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const trigger = () => `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(12).toString("hex")}`;

const urlVerification = () => ({
  body: JSON.stringify({ token: "x", challenge: randomBytes(8).toString("hex"), type: "url_verification" }),
  contentType: "application/json",
});

function approveClick(requestId: string, responseUrl: string) {
  const payload = {
    type: "block_actions",
    user: { id: APPROVER_SLACK, username: "approver", team_id: "T0BENCH" },
    api_app_id: "A0BENCH",
    container: { type: "message", message_ts: "1700000000.000001", channel_id: "D0APPROVER", is_ephemeral: false },
    trigger_id: trigger(),
    team: { id: "T0BENCH", domain: "bench" },
    channel: { id: "D0APPROVER", name: "directmessage" },
    message: { type: "message", ts: "1700000000.000001", text: "card" },
    response_url: responseUrl,
    actions: [
      {
        action_id: "sesame_approve",
        block_id: "b1",
        type: "button",
        value: JSON.stringify({ kind: "approve", requestId, version: 1 }),
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
  return { body: form({ payload: JSON.stringify(payload) }), contentType: FORM };
}

function slashCommand(userIndex: number, text: string, responseUrl: string) {
  return {
    body: form({
      team_id: "T0BENCH",
      team_domain: "bench",
      channel_id: "C0GENERAL",
      channel_name: "general",
      user_id: `U0R${userIndex}`,
      user_name: `r${userIndex}`,
      command: "/request-access",
      text,
      api_app_id: "A0BENCH",
      response_url: responseUrl,
      trigger_id: trigger(),
    }),
    contentType: FORM,
  };
}

const uptime = () => {
  try {
    return execFileSync("uptime", { encoding: "utf8" }).trim();
  } catch {
    return `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(", ")}`;
  }
};

const FAILURE = /could not finish|internal problem|going faster/i;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const dist = distProblem(ROOT);
  if (dist?.fatal) throw new Error(dist.message);
  if (dist) progress(`warning: ${dist.message}`);
  const cleanup = createCleanup(progress);
  process.once("SIGINT", () => void cleanup.run().finally(() => process.exit(130)));
  const sender: { close(): void }[] = [];
  try {
    const uptimeAtStart = uptime();
    const redis = await startPrivateRedis();
    cleanup.defer("stop the private redis-server", () => redis.stop());
    const database = await createBenchDatabase(BENCH_POSTGRES_URL, "sesame_bench_chat_ack");
    cleanup.defer(`drop database ${database.name}`, () => database.drop());
    const slack = await startSlackBenchStandIn();
    cleanup.defer("stop the Slack stand-in", () => slack.close());
    const workDir = await mkdtemp(join(tmpdir(), "sesame-bench-chat-ack-"));
    cleanup.defer("remove the policy file", () => rm(workDir, { recursive: true, force: true }));
    const policyPath = join(workDir, "policy.yaml");
    await writeFile(policyPath, policyYaml());
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = {
      NODE_ENV: "production",
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      HOST: "127.0.0.1",
      PORT: String(port),
      SESAME_POLICY_FILE: policyPath,
      SESAME_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      SESAME_API_TOKENS: requesterIds.map((id) => `${id}=${tokenOf(id)}`).join(","),
      SESAME_REDIS_PREFIX: "sesame-bench-chat-ack",
      SESAME_RATE_LIMIT: "10000000",
      SLACK_BOT_TOKEN: "xoxb-bench",
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.apiUrl,
      LOG_LEVEL: "warn",
    };
    const processes: SesameProcess[] = [];
    cleanup.defer("stop Sesame", async () => {
      await Promise.all(processes.map((p) => p.stop()));
    });
    const web = options.workers === 0 ? "all" : "web";
    progress(
      options.workers === 0
        ? "starting Sesame (--role all)"
        : `starting Sesame (--role web, and ${options.workers} --role worker)`,
    );
    processes.push(await startSesameProcess(ROOT, web, env, httpReady(url)));
    const startWorkers = async () => {
      for (let i = 0; i < options.workers; i += 1)
        processes.push(
          await startSesameProcess(
            ROOT,
            "worker",
            { ...env, PORT: String(await freePort()), SESAME_METRICS_PORT: String(await freePort()) },
            workersReady(redis.url, env.SESAME_REDIS_PREFIX, i + 1),
          ),
        );
    };
    if (!options.deferWorkers) await startWorkers();

    progress(`making ${options.count + WARM_UP_CLICKS} pending requests through the REST API`);
    const api = createApi(url);
    const requestIds: string[] = [];
    let made = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (made < options.count + WARM_UP_CLICKS) {
          const index = made++;
          const requester = requesterIds[index % REQUESTERS]!;
          const answer = await api.call(tokenOf(requester), "POST", "/api/v1/requests", { resource: "bench" });
          const id = (answer.body as { id?: unknown } | null)?.id;
          if (answer.status !== 201 || typeof id !== "string")
            throw new Error(`creating a request: HTTP ${answer.status}`);
          requestIds.push(id);
        }
      }),
    );

    const warmUpIds = requestIds.splice(options.count);
    const acking = () => processes[0]!.cpuMs();
    const client = createSlackSender(url, options.concurrency);
    sender.push(client);
    progress("warming up");
    await drive(Array.from({ length: 200 }, urlVerification), options.concurrency, client.send, acking);
    await drive(
      Array.from({ length: 50 }, (_, i) => slashCommand(i % REQUESTERS, "help", slack.responseUrl(`warm${i}`))),
      options.concurrency,
      client.send,
      acking,
    );
    // The click path warms up too, on requests of its own (a running server has seen clicks before).
    await drive(
      warmUpIds.map((id, i) => approveClick(id, slack.responseUrl(`warmclick${i}`))),
      options.concurrency,
      client.send,
      acking,
    );
    await sleep(1_000);
    const loadBefore = loadavg();
    progress(`floor: ${options.count} signed url_verification, ${options.concurrency} at once`);
    const floorBefore = await drive(
      Array.from({ length: options.count }, urlVerification),
      options.concurrency,
      client.send,
      acking,
    );
    progress(`${options.count} signed approve clicks, ${options.concurrency} at once`);
    const clickAcked = new Set<number>();
    const clicks = await drive(
      requestIds.map((id, i) => approveClick(id, slack.responseUrl(`click${i}`))),
      options.concurrency,
      client.send,
      acking,
      (i) => clickAcked.add(i),
    );
    progress(`${options.count} signed slash commands, ${options.concurrency} at once`);
    const commandAcked = new Set<number>();
    const commands = await drive(
      Array.from({ length: options.count }, (_, i) =>
        slashCommand(i % REQUESTERS, `bench 30m bench command ${i}`, slack.responseUrl(`cmd${i}`)),
      ),
      options.concurrency,
      client.send,
      acking,
      (i) => commandAcked.add(i),
    );
    progress("floor again");
    const floorAfter = await drive(
      Array.from({ length: options.count }, urlVerification),
      options.concurrency,
      client.send,
      acking,
    );
    const loadAfter = loadavg();
    const uptimeAfterPhases = uptime();

    if (options.deferWorkers) {
      progress(`starting ${options.workers} --role worker now that the timed phases are over`);
      await startWorkers();
    }
    progress("waiting for every stored action to finish");
    const unfinished = () =>
      withClient(database.url, async (db) =>
        Number((await db.query(`SELECT count(*) AS n FROM "ChatIntake" WHERE status = 'received'`)).rows[0].n),
      );
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const repliesIn = [...commandAcked].filter((i) => slack.replies.has(`cmd${i}`)).length;
      if ((await unfinished()) === 0 && repliesIn === commandAcked.size) break;
      await sleep(500);
    }

    const approved = await withClient(database.url, async (db) =>
      Number(
        (
          await db.query(`SELECT count(*) AS n FROM "AccessRequest" WHERE id = ANY($1) AND status <> 'pending'`, [
            requestIds,
          ])
        ).rows[0].n,
      ),
    );
    const clickFailuresTold =
      slack.ephemerals.filter((text) => FAILURE.test(text)).length +
      [...clickAcked].filter((i) => (slack.replies.get(`click${i}`) ?? []).some((t) => FAILURE.test(t))).length;
    let commandsApplied = 0;
    let commandsTold = 0;
    for (const i of commandAcked) {
      const texts = slack.replies.get(`cmd${i}`) ?? [];
      if (texts.some((t) => /^Requested bench/.test(t))) commandsApplied += 1;
      else if (texts.length > 0) commandsTold += 1;
    }
    const report = {
      machine: { cores: cpus().length, node: process.version },
      options,
      uptime: { start: uptimeAtStart, afterPhases: uptimeAfterPhases },
      load: { before: loadBefore, after: loadAfter },
      floorBefore,
      clicks: {
        ...clicks,
        applied: approved,
        failedAndTold: clickFailuresTold,
        lost: Math.max(0, clickAcked.size - approved - clickFailuresTold),
      },
      commands: {
        ...commands,
        applied: commandsApplied,
        failedAndTold: commandsTold,
        lost: commandAcked.size - commandsApplied - commandsTold,
      },
      floorAfter,
      logs: processes
        .map((p) => p.logs())
        .reduce((sum, logs) => ({
          warnings: sum.warnings + logs.warnings,
          errors: sum.errors + logs.errors,
          stderrLines: sum.stderrLines + logs.stderrLines,
          samples: [...sum.samples, ...logs.samples],
        })),
    };
    console.log(options.json ? JSON.stringify(report, null, 2) : renderReport(report));
  } finally {
    for (const s of sender) s.close();
    await cleanup.run();
  }
}

function renderReport(report: {
  machine: { cores: number; node: string };
  options: { count: number; concurrency: number };
  uptime: { start: string; afterPhases: string };
  floorBefore: Phase;
  clicks: Phase & { applied: number; failedAndTold: number; lost: number };
  commands: Phase & { applied: number; failedAndTold: number; lost: number };
  floorAfter: Phase;
  logs: { warnings: number; errors: number };
}): string {
  const floorP99 = Math.max(report.floorBefore.latency.p99, report.floorAfter.latency.p99);
  const row = (name: string, phase: Phase, extra?: { applied: number; failedAndTold: number; lost: number }) => [
    name,
    formatNumber(phase.latency.p50),
    formatNumber(phase.latency.p99),
    formatRatio(phase.latency.p99, floorP99),
    phase.cpuMsPerAck.toFixed(2),
    String(phase.acked),
    String(phase.notAcked),
    extra ? String(extra.applied) : "—",
    extra ? String(extra.failedAndTold) : "—",
    extra ? String(extra.lost) : "—",
  ];
  return [
    `Sesame chat ack bench: ${report.options.count} per phase, ${report.options.concurrency} at once; ${report.machine.cores} cores, Node ${report.machine.node}`,
    `uptime at start:        ${report.uptime.start}`,
    `uptime after the phases: ${report.uptime.afterPhases}`,
    "",
    renderTable(
      [
        "phase",
        "ack p50 ms",
        "ack p99 ms",
        "p99 / floor",
        "CPU ms/ack",
        "acked",
        "not acked",
        "applied",
        "failed, told",
        "lost",
      ],
      [
        row("url_verification floor (before)", report.floorBefore),
        row("approve clicks", report.clicks, report.clicks),
        row("slash commands", report.commands, report.commands),
        row("url_verification floor (after)", report.floorAfter),
      ],
      ["left", "right", "right", "right", "right", "right", "right", "right", "right", "right"],
    ),
    "",
    `Sesame logged ${report.logs.warnings} warnings and ${report.logs.errors} errors.`,
  ].join("\n");
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
