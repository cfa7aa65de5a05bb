import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { type DestinationStream, type Logger as PinoLogger, pino } from "pino";
import { createChatAdapters, enabledPlatforms } from "./chat/chat-adapters.js";
import type { ChatAdapter } from "./chat/core/chat-adapter.js";
import { type ChatDispatcher, createChatDispatcher } from "./chat/core/chat-dispatcher.js";
import { createChatNotifier } from "./chat/core/chat-notifier.js";
import type { ChatStore } from "./chat/core/chat-store.js";
import { chatModes } from "./config/chat-env.js";
import { type Env, envApiTokens } from "./config/env.js";
import { loadPolicyFile } from "./config/policy-loader.js";
import { createActionExecutor } from "./connectors/action-executors.js";
import { type ConnectorSet, connectorValidators, createConnectorSet } from "./connectors/connector-set.js";
import { AppError } from "./domain/errors.js";
import { eventSecretProblems, eventSecretVariable, MIN_EVENT_SECRET_LENGTH } from "./domain/policy/event-access.js";
import { PolicyBook } from "./domain/policy/policy-book.js";
import type { PolicyFile } from "./domain/policy/policy-schema.js";
import { createJobScheduler } from "./jobs/bullmq-scheduler.js";
import { type ChatIntakeRunner, createChatIntake } from "./jobs/chat-intake-queue.js";
import { type ChatQueue, createChatQueue } from "./jobs/chat-queue.js";
import { createGrantChangeBus, type GrantChangeBus } from "./jobs/grant-changes.js";
import { createQueues, type QueueSet, type RetryPolicy, waitUntilReady } from "./jobs/queues.js";
import { createRateLimiter } from "./jobs/rate-limiter.js";
import { createSesameMetrics, type SesameMetrics } from "./metrics/sesame-metrics.js";
import { createOnCallDirectory } from "./oncall/on-call-directory.js";
import { describeOnCallSetup } from "./oncall/on-call-setup.js";
import { createPagerDutyDirectory } from "./oncall/pagerduty-users.js";
import type { ServiceDeps } from "./services/deps.js";
import { createGrantWaits } from "./services/grant-waits.js";
import { askingPagerDuty } from "./services/incident-offers.js";
import type { Notifier } from "./services/ports.js";
import { createTokenResolver, syncEnvApiTokens } from "./storage/api-token-repository.js";
import { createChatIntakeRepository } from "./storage/chat-intake-repository.js";
import { createChatStore } from "./storage/chat-repository.js";
import { syncIdentities } from "./storage/identity-repository.js";
import { createIncidentOfferStore } from "./storage/incident-offer-repository.js";
import { migrate } from "./storage/migrator.js";
import { createOutageLog, type OutageLog } from "./storage/outage-log.js";
import { createDatabase, type Database } from "./storage/prisma-client.js";
import { createSecretBox } from "./storage/secret-box.js";
import { createSlackInstallationStore } from "./storage/slack-installation-repository.js";
import { createStore } from "./storage/store.js";

/** Everything one Sesame process holds: built by `createRuntime`, used by main, the CLI and tests. */
export interface Runtime {
  env: Env;
  db: Database;
  queues: QueueSet;
  connectors: ConnectorSet;
  policyFile: PolicyFile;
  deps: ServiceDeps;
  /** Grant changes as they commit here and in the other processes (the admission view listens). */
  grantChanges: GrantChangeBus;
  chat: {
    adapters: ChatAdapter[];
    dispatcher: ChatDispatcher;
    queue: ChatQueue;
    store: ChatStore;
    intake: ChatIntakeRunner;
  };
  logger: PinoLogger;
  /** Hears every Redis connection's losses and recoveries (workers' included), and logs each outage once. */
  redisHealth: OutageLog;
  /** This process's metrics registry (served at /metrics) and the recorder in `deps.metrics`. */
  metrics: SesameMetrics;
  /** Where `logger` writes (stdout unless a test gave another); the web server's request log goes there too. */
  logDestination: DestinationStream;
  resolveToken(token: string): Promise<string | null>;
  /** A signed event source's secret (SESAME_EVENT_SECRET_<SOURCE>, 32+ characters), or undefined. */
  eventSecret(source: string): string | undefined;
  close(): Promise<void>;
}

/** Calls waiting for a grant's status at once, per process; past it, a wait only reads again every 5 s. */
const MAX_GRANT_WAITERS = 10_000;

/** With no chat platform configured, notifications are only logged (ids and types only, never secrets). */
function logNotifier(logger: PinoLogger): Notifier {
  return {
    async publish(notification) {
      const { type, ...rest } = notification;
      const ids =
        "request" in rest
          ? { requestId: rest.request.id, status: rest.request.status }
          : "grant" in rest
            ? { grantId: rest.grant.id, status: rest.grant.status }
            : rest;
      logger.info({ notification: type, ...ids }, "notification");
    },
  };
}

async function loadPolicy(env: Env, source: Record<string, string | undefined> = process.env): Promise<PolicyFile> {
  return loadPolicyFile(env.SESAME_POLICY_FILE, connectorValidators(source));
}

export async function createRuntime(
  env: Env,
  options: {
    source?: Record<string, string | undefined>;
    notifier?: Notifier;
    now?: () => Date;
    migrate?: boolean;
    retry?: RetryPolicy;
    /** Where log lines go (default stdout); tests read them from here. */
    logDestination?: DestinationStream;
  } = {},
): Promise<Runtime> {
  const source = options.source ?? process.env;
  // Asynchronous, buffered stdout: lines go out 4 KiB at a time, and at least once a second,
  // instead of a write per line (each write cost as much CPU as a database round trip). pino
  // flushes what is left when the process exits.
  const stdoutLog = options.logDestination ? undefined : pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const logDestination = options.logDestination ?? (stdoutLog as DestinationStream);
  const logger = pino({ level: env.LOG_LEVEL, redact: ["*.password", "*.token", "*.url"] }, logDestination);
  const modes = chatModes(env);
  const policyFile = await loadPolicy(env, source);
  // Before anything is written: a deploy that cannot trust its event sources stops here.
  const eventSecrets = eventSecretProblems(policyFile.eventAccess, source);
  if (eventSecrets.fatal.length > 0) throw new AppError("config_invalid", eventSecrets.fatal.join("; "));
  const book = new PolicyBook(policyFile);
  if (options.migrate ?? env.SESAME_RUN_MIGRATIONS) {
    const result = await migrate(env.DATABASE_URL);
    if (result.applied.length > 0) logger.info({ applied: result.applied }, "database migrated");
  }
  const db = createDatabase(env.DATABASE_URL, {
    connectTimeoutSeconds: env.SESAME_DB_CONNECT_TIMEOUT,
    statementTimeoutSeconds: env.SESAME_DB_STATEMENT_TIMEOUT,
    health: createOutageLog(logger, {
      service: "postgres",
      down: "database unreachable: API calls answer 503 and jobs fail and retry until PostgreSQL answers again; check the server and the network to it",
      up: "database recovered: PostgreSQL answers again",
      secrets: [env.DATABASE_URL],
    }),
  });
  await syncIdentities(
    db,
    policyFile.people.map((p) => ({
      id: p.id,
      email: p.email,
      name: p.name,
      admin: p.admin,
      links: [
        ...(p.slack ? [{ platform: "slack", externalId: p.slack }] : []),
        ...(p.teams ? [{ platform: "teams", externalId: p.teams }] : []),
      ],
    })),
  );
  await syncEnvApiTokens(
    db,
    envApiTokens(env).filter((t) => book.person(t.identityId) !== undefined),
  );
  const redisHealth = createOutageLog(logger, {
    service: "redis",
    down: "Redis unreachable: the API keeps working, approved grants are activated inline, and the sweeper revokes and expires what is due until Redis is back; check the Redis server",
    up: "Redis recovered: jobs are queued again",
    secrets: [env.REDIS_URL],
  });
  const queues = createQueues(env.REDIS_URL, env.SESAME_REDIS_PREFIX, { retry: options.retry, health: redisHealth });
  // Not fatal: Sesame runs without Redis (the sweeper revokes from the database); jobs resume when it returns.
  await waitUntilReady(queues.connection, 10_000).catch((error: unknown) =>
    logger.warn({ error: String(error) }, "Redis is not reachable yet"),
  );
  for (const problem of eventSecrets.missing) logger.warn({ problem }, "an event source has no secret");
  const connectors = await createConnectorSet(policyFile, source);
  // Not fatal: without a key, look-ups fail and people decide; paging is reported where it fails.
  for (const problem of describeOnCallSetup(policyFile.oncall, env))
    logger.warn({ problem }, "on-call is not fully set up");
  const chatQueue = createChatQueue(queues.connection, env.SESAME_REDIS_PREFIX);
  const platforms = enabledPlatforms(modes);
  // An offer is a chat card: without a chat platform, nobody would ever see it.
  if (platforms.length === 0)
    for (const rule of policyFile.incidentAccess.filter((rule) => rule.grant === "offer"))
      logger.warn(
        { resources: rule.resources },
        "an incidentAccess rule offers access in chat, but no chat platform is configured: its offers reach nobody; configure Slack or Teams, or set grant: immediately",
      );
  const policy = () => book;
  const instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const grantChanges = createGrantChangeBus({
    publisher: queues.connection,
    redisUrl: env.REDIS_URL,
    prefix: env.SESAME_REDIS_PREFIX,
    instanceId,
    health: redisHealth,
    logger,
  });
  const store = createStore(db, { grantsCommitted: grantChanges.committed });
  const now = options.now ?? (() => new Date());
  const metrics = createSesameMetrics({
    queues: [queues.grants, queues.revokes, queues.requests, queues.escalations, chatQueue.queue],
    store,
    instanceId,
    now,
  });
  const deps: ServiceDeps = {
    store,
    jobs: createJobScheduler(queues),
    connectors,
    policy,
    secrets: createSecretBox(env.SESAME_ENCRYPTION_KEY),
    oncall: createOnCallDirectory(policyFile.oncall, env),
    notifier:
      options.notifier ??
      (platforms.length > 0
        ? createChatNotifier({ platforms, policy, enqueue: chatQueue.enqueue, logger })
        : logNotifier(logger)),
    logger,
    now,
    newId: randomUUID,
    instanceId,
    metrics: metrics.recorder,
    actions: createActionExecutor(policyFile, source),
    offers: env.PAGERDUTY_API_TOKEN
      ? askingPagerDuty(
          createIncidentOfferStore(db, randomUUID),
          createPagerDutyDirectory({ apiUrl: env.PAGERDUTY_API_URL, token: env.PAGERDUTY_API_TOKEN }),
          logger,
        )
      : createIncidentOfferStore(db, randomUUID),
    grantWaits: createGrantWaits(grantChanges, MAX_GRANT_WAITERS),
  };
  const chatStore = createChatStore(db);
  const intake = createChatIntake({
    connection: queues.connection,
    prefix: env.SESAME_REDIS_PREFIX,
    repo: createChatIntakeRepository(db, deps.secrets),
    logger,
    now: deps.now,
    newId: randomUUID,
    inlineConcurrency: env.SESAME_INTAKE_CONCURRENCY,
    ...(options.retry ? { retry: { attempts: options.retry.attempts, backoffMs: options.retry.backoffMs } } : {}),
  });
  const slackInstallations = createSlackInstallationStore(
    db,
    deps.secrets,
    modes.slack.kind === "oauth" ? modes.slack.allowedWorkspaces : [],
  );
  const adapters = await createChatAdapters({
    env,
    modes,
    slackInstallations,
    context: {
      deps,
      store: chatStore,
      logger,
      intake,
      rateLimit: createRateLimiter(queues.connection, env.SESAME_REDIS_PREFIX, env.SESAME_RATE_LIMIT),
    },
    sharedPace: { connection: queues.connection, prefix: env.SESAME_REDIS_PREFIX },
  });
  const dispatcher = createChatDispatcher(
    deps,
    chatStore,
    new Map(adapters.map((adapter) => [adapter.platform, adapter])),
  );
  // Started last, so a start that fails leaves no timer behind.
  const logFlush = stdoutLog && setInterval(() => stdoutLog.flush(), 1000).unref();
  return {
    env,
    db,
    queues,
    connectors,
    policyFile,
    deps,
    grantChanges,
    chat: { adapters, dispatcher, queue: chatQueue, store: chatStore, intake },
    logger,
    redisHealth,
    metrics,
    logDestination,
    eventSecret: (name) => {
      const secret = source[eventSecretVariable(name)];
      return secret !== undefined && secret.length >= MIN_EVENT_SECRET_LENGTH ? secret : undefined;
    },
    resolveToken: createTokenResolver(db, { cacheSeconds: env.SESAME_TOKEN_CACHE, now: () => deps.now().getTime() }),
    async close() {
      clearInterval(logFlush);
      stdoutLog?.flush();
      await intake.close();
      await metrics.close();
      await chatQueue.close();
      await grantChanges.close();
      await queues.close();
      await connectors.close();
      await db.$disconnect();
    },
  };
}
