import { type Admission, startAdmission } from "./admission/start-admission.js";
import { concurrencyOf, EnvError, parseEnv } from "./config/env.js";
import { isAppError } from "./domain/errors.js";
import { eventRoutes } from "./http/routes/event-routes.js";
import { buildServer } from "./http/server.js";
import { startAuditChainTimer } from "./jobs/audit-chain-timer.js";
import { type AuditWebhook, startAuditWebhook } from "./jobs/audit-webhook.js";
import { startIntakeWorker } from "./jobs/chat-intake-worker.js";
import { startChatWorker } from "./jobs/chat-queue.js";
import { createEventQueue, startEventWorker } from "./jobs/event-queue.js";
import { startLeaseHeartbeat } from "./jobs/lease-heartbeat.js";
import { startRetentionTimer } from "./jobs/retention-timer.js";
import { type Sweeper, startSweeper } from "./jobs/sweeper.js";
import { startWorkers } from "./jobs/workers.js";
import { startMetricsServer } from "./metrics/metrics-server.js";
import { createPagerDutyDirectory } from "./oncall/pagerduty-users.js";
import { createRuntime, type Runtime } from "./runtime.js";
import { processInboundEvent } from "./services/inbound-events.js";
import { chainAuditEvents } from "./storage/audit-chainer.js";
import { createInboundEventStore } from "./storage/inbound-event-repository.js";

export interface Started {
  /** The API's base URL when the web role runs. */
  url?: string;
  sweeper?: Sweeper;
  /** The admission webhook (web role): its view of active grants, and its HTTPS port if configured. */
  admission?: Admission;
  /** The worker role's own /metrics server (SESAME_METRICS_PORT), when it runs one. */
  metricsUrl?: string;
  stop(): Promise<void>;
}

/** Each shutdown step gets this long: a worker stuck on a reconnecting Redis must not keep the process alive forever. */
const STOP_STEP_MS = 20_000;

async function bounded(step: () => Promise<void>, runtime: Runtime): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), STOP_STEP_MS)));
  const result = await Promise.race([step().then(() => "done" as const), timeout]).finally(() => clearTimeout(timer));
  if (result === "timeout")
    runtime.logger.warn({ afterMs: STOP_STEP_MS }, "a shutdown step did not finish in time; going on without it");
}

/** Starts the web server, the workers, the sweeper and the audit chainer (or one side, per SESAME_ROLE / --role). */
export async function start(runtime: Runtime, role: "all" | "web" | "worker"): Promise<Started> {
  const { env, deps } = runtime;
  const stops: (() => Promise<void>)[] = [];
  const started: Started = {
    async stop() {
      for (const stop of stops.reverse()) await bounded(stop, runtime);
      await bounded(() => runtime.close(), runtime);
    },
  };
  // Pushed first, so it stops last: leases are given back only after the workers finished their calls.
  const heartbeat = startLeaseHeartbeat(deps);
  stops.push(() => heartbeat.stop());
  if (role === "worker") await startWorkerMetrics(runtime, started, stops);
  // Signed inbound events (POST /events/:source): stored by the web role, worked by the workers.
  const inboundEvents = createInboundEventStore(runtime.db, deps.newId);
  const pagerDuty = {
    directory: createPagerDutyDirectory({ apiUrl: env.PAGERDUTY_API_URL, token: env.PAGERDUTY_API_TOKEN }),
    resolveReceived: (incidentId: string) => inboundEvents.pagerDutyResolveReceived(incidentId),
  };
  const processEvent = (id: string) => processInboundEvent(deps, inboundEvents, id, pagerDuty);
  const eventQueue = createEventQueue(deps, processEvent, runtime.queues.connection, env.SESAME_REDIS_PREFIX);
  stops.push(() => eventQueue.close());
  if (role !== "web") {
    const eventWorker = startEventWorker(deps, inboundEvents, processEvent, {
      redisUrl: env.REDIS_URL,
      prefix: env.SESAME_REDIS_PREFIX,
      redisHealth: runtime.redisHealth,
    });
    stops.push(() => eventWorker.close());
  }
  if (role !== "web") {
    // First: a misconfigured audit stream stops the start before any worker runs.
    const auditWebhook = startAuditWebhookFromEnv(runtime);
    if (auditWebhook) {
      stops.push(() => auditWebhook.stop());
      runtime.metrics.watchAuditWebhookLag(() => auditWebhook.lagSeconds());
    }
    const workers = startWorkers(deps, {
      redisUrl: env.REDIS_URL,
      prefix: env.SESAME_REDIS_PREFIX,
      concurrency: (queue) => concurrencyOf(env, queue),
      redisHealth: runtime.redisHealth,
    });
    const sweeper = startSweeper(deps, env.SESAME_SWEEP_INTERVAL);
    if (env.SESAME_RETENTION !== undefined) {
      const retention = startRetentionTimer(deps, env.SESAME_RETENTION);
      stops.push(() => retention.stop());
    }
    const auditChainer = startAuditChainTimer(
      () => chainAuditEvents(runtime.db),
      deps.logger,
      env.SESAME_AUDIT_CHAIN_INTERVAL,
    );
    stops.push(
      () => auditChainer.stop(),
      () => sweeper.stop(),
      () => workers.close(),
    );
    started.sweeper = sweeper;
    if (runtime.chat.adapters.length > 0) {
      const chatWorker = startChatWorker(runtime.chat.dispatcher, runtime.logger, {
        redisUrl: env.REDIS_URL,
        prefix: env.SESAME_REDIS_PREFIX,
        concurrency: concurrencyOf(env, "chat"),
        redisHealth: runtime.redisHealth,
        metrics: deps.metrics,
      });
      stops.push(() => chatWorker.close());
      // Stored chat actions (acknowledged by a web process), a bounded number at a time.
      const intakeWorker = startIntakeWorker(runtime.chat.intake, runtime.logger, {
        redisUrl: env.REDIS_URL,
        prefix: env.SESAME_REDIS_PREFIX,
        concurrency: env.SESAME_INTAKE_CONCURRENCY,
        redisHealth: runtime.redisHealth,
      });
      stops.push(() => intakeWorker.close());
    }
  }
  if (role !== "worker") {
    const admission = await startAdmission(runtime);
    stops.push(() => admission.stop());
    started.admission = admission;
    const server = await buildServer({
      deps,
      resolveToken: runtime.resolveToken,
      logLevel: env.LOG_LEVEL,
      logStream: runtime.logDestination,
      chatAdapters: runtime.chat.adapters,
      rateLimit: { max: env.SESAME_RATE_LIMIT, redis: runtime.queues.connection, prefix: env.SESAME_REDIS_PREFIX },
      admissionRoutes: env.SESAME_ADMISSION_PLAIN_HTTP ? admission.routes : undefined,
      metrics: { registry: runtime.metrics, token: env.SESAME_METRICS_TOKEN },
      eventRoutes: eventRoutes({
        deps,
        events: inboundEvents,
        dispatch: (id) => eventQueue.dispatch(id),
        secretOf: (source) => runtime.eventSecret(source),
        pagerDutySecret: env.PAGERDUTY_WEBHOOK_SECRET,
      }),
      readiness: [
        { name: "postgres", required: true, check: async () => void (await runtime.db.$queryRaw`SELECT 1`) },
        // Without Redis the API still works: work that cannot be queued runs inline or waits for the sweeper.
        { name: "redis", required: false, check: async () => void (await runtime.queues.connection.ping()) },
      ],
    });
    started.url = await server.listen({ port: env.PORT, host: env.HOST });
    stops.push(() => server.close());
    for (const adapter of runtime.chat.adapters) {
      await adapter.start();
      stops.push(() => adapter.stop());
    }
  }
  return started;
}

/**
 * Web processes serve /metrics on the main port; a worker-only process serves it on
 * SESAME_METRICS_PORT, started first so a port in use stops the start before any worker runs.
 */
async function startWorkerMetrics(runtime: Runtime, started: Started, stops: (() => Promise<void>)[]): Promise<void> {
  const { env } = runtime;
  if (env.SESAME_METRICS_PORT === undefined) {
    runtime.logger.info({}, "this worker serves no /metrics: set SESAME_METRICS_PORT to scrape it");
    return;
  }
  const server = await startMetricsServer(runtime.metrics, {
    port: env.SESAME_METRICS_PORT,
    host: env.HOST,
    token: env.SESAME_METRICS_TOKEN,
    logger: runtime.logger,
  }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new EnvError([`SESAME_METRICS_PORT: cannot listen on ${env.HOST}:${env.SESAME_METRICS_PORT} (${code})`]);
  });
  started.metricsUrl = server.url;
  stops.push(() => server.close());
}

/** The audit stream to a SIEM, when SESAME_AUDIT_WEBHOOK_URL is set; it runs beside the chainer, in workers. */
function startAuditWebhookFromEnv(runtime: Runtime): AuditWebhook | undefined {
  const { env, deps } = runtime;
  if (!env.SESAME_AUDIT_WEBHOOK_URL) return undefined;
  if (!env.SESAME_AUDIT_WEBHOOK_SECRET)
    throw new EnvError([
      "SESAME_AUDIT_WEBHOOK_SECRET: is required with SESAME_AUDIT_WEBHOOK_URL (32+ random characters, openssl rand -hex 32)",
    ]);
  return startAuditWebhook({
    url: env.SESAME_AUDIT_WEBHOOK_URL,
    secret: env.SESAME_AUDIT_WEBHOOK_SECRET,
    db: runtime.db,
    store: deps.store,
    instanceId: deps.instanceId,
    logger: deps.logger,
    now: deps.now,
  });
}

function roleFromArgs(argv: string[]): "all" | "web" | "worker" | undefined {
  const index = argv.indexOf("--role");
  const value = index >= 0 ? argv[index + 1] : undefined;
  if (value === undefined) return undefined;
  if (value === "all" || value === "web" || value === "worker") return value;
  throw new EnvError([`--role: must be all, web or worker (got "${value}")`]);
}

async function main(): Promise<void> {
  const env = parseEnv();
  const runtime = await createRuntime(env);
  const started = await start(runtime, roleFromArgs(process.argv) ?? env.SESAME_ROLE);
  const shutdown = async (signal: string) => {
    runtime.logger.info({ signal }, "shutting down");
    await started.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    if (error instanceof EnvError) console.error(error.message);
    else if (isAppError(error)) console.error(`Sesame cannot start: ${error.message}`);
    else console.error(error);
    process.exit(1);
  });
}
