import { z } from "zod";
import { tryParseDuration } from "../domain/duration.js";

/**
 * Every environment variable Sesame reads, parsed once at boot. `.env.example` documents each of
 * them (a test keeps the two in sync). Secrets have no defaults.
 */

const Duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((text) => tryParseDuration(text) !== undefined, "must be a duration like 30s, 5m or 1h")
    .transform((text) => tryParseDuration(text)!);

const Concurrency = z.coerce
  .number()
  .int()
  .min(1, "must be a whole number of jobs, at least 1")
  .max(500, "must be at most 500 jobs at once per process")
  .optional();

const PostgresUrl = z.string().regex(/^postgres(ql)?:\/\//, "must be a postgresql:// connection string");
const RedisUrl = z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL");

export const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("production"),
  DATABASE_URL: PostgresUrl,
  REDIS_URL: RedisUrl,
  PORT: z.coerce
    .number()
    .int()
    .min(0, "must be a port number (0 picks a free port)")
    .max(65535, "must be a port number up to 65535")
    .default(3978),
  HOST: z.string().default("0.0.0.0"),
  SESAME_POLICY_FILE: z.string().min(1),
  SESAME_ENCRYPTION_KEY: z
    .string()
    .refine(
      (value) => Buffer.from(value, "base64").length === 32,
      "must be 32 random bytes, base64-encoded (openssl rand -base64 32)",
    ),
  SESAME_API_TOKENS: z
    .string()
    .optional()
    .refine(
      (value) =>
        value === undefined ||
        value.split(",").every((pair) => /^[a-z0-9][a-z0-9._-]*=[A-Za-z0-9_\-.~]{24,}$/.test(pair.trim())),
      "must be a comma-separated list of identity=token pairs, each token at least 24 characters",
    ),
  SESAME_ROLE: z.enum(["all", "web", "worker"]).default("all"),
  SESAME_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/, "letters, digits, ':', '_' or '-'")
    .default("sesame"),
  SESAME_SWEEP_INTERVAL: Duration("30s").refine(
    (seconds) => seconds <= 3_600,
    "must be at most 1h: overdue grants wait for the sweep when Redis lost their jobs",
  ),
  SESAME_AUDIT_CHAIN_INTERVAL: Duration("1s").refine(
    (seconds) => seconds <= 60,
    "must be at most 1m: new audit events stay out of the hash chain until the chainer runs",
  ),
  SESAME_RETENTION: z
    .string()
    .optional()
    .refine(
      (text) => text === undefined || (tryParseDuration(text) ?? 0) >= 86_400,
      "must be a duration of at least 1d, like 400d: requests and grants that ended longer ago are deleted",
    )
    .transform((text) => (text === undefined ? undefined : tryParseDuration(text)!)),
  SESAME_AUDIT_WEBHOOK_URL: z
    .url({ protocol: /^https?$/, error: "must be the http(s) URL your SIEM or log collector receives audit events at" })
    .refine(
      (text) => {
        const url = new URL(text);
        return url.username === "" && url.password === "";
      },
      // fetch refuses such URLs outright, and the password would end up in error messages.
      "must not carry a user or password: put a token in the query string or let the receiver check the signature",
    )
    .optional(),
  SESAME_AUDIT_WEBHOOK_SECRET: z
    .string()
    .min(32, "must be at least 32 random characters (openssl rand -hex 32): it signs every delivery")
    .optional(),
  SESAME_TOKEN_CACHE: Duration("10s").refine(
    (seconds) => seconds <= 300,
    "must be at most 5m: a revoked API token keeps working until its cached answer expires",
  ),
  SESAME_DB_CONNECT_TIMEOUT: Duration("5s").refine(
    (seconds) => seconds <= 60,
    "must be at most 1m: an API call waits this long for a database connection before answering 503",
  ),
  SESAME_DB_STATEMENT_TIMEOUT: Duration("30s").refine(
    (seconds) => seconds <= 600,
    "must be at most 10m: Sesame's statements take milliseconds, and a hung one holds its connection this long",
  ),
  SESAME_WORKER_CONCURRENCY: Concurrency,
  SESAME_GRANTS_CONCURRENCY: Concurrency,
  SESAME_REVOKES_CONCURRENCY: Concurrency,
  SESAME_REQUESTS_CONCURRENCY: Concurrency,
  SESAME_ESCALATIONS_CONCURRENCY: Concurrency,
  SESAME_CHAT_CONCURRENCY: Concurrency,
  /** Stored chat actions (clicks, commands) run at once per process: bounded, so a burst cannot take every database connection. */
  SESAME_INTAKE_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8),
  /** Requests per minute per identity, over the API and chat: far above what a person does by hand. */
  SESAME_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000_000).default(300),
  SESAME_RUN_MIGRATIONS: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SESAME_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: "must be the https:// address people and Slack/Teams reach Sesame at" })
    .optional(),
  SLACK_SIGNING_SECRET: z
    .string()
    .regex(/^[0-9a-f]{32,}$/, "must be the app's Signing Secret (Basic Information page), a hex string")
    .optional(),
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xoxb-/, "must be a bot token starting with xoxb-")
    .optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, "must be an app-level token starting with xapp- (with connections:write)")
    .optional(),
  SLACK_CLIENT_ID: z
    .string()
    .regex(/^[0-9]+\.[0-9]+$/, "must be the app's Client ID, e.g. 1234567890.1234567890")
    .optional(),
  SLACK_CLIENT_SECRET: z.string().min(16, "must be the app's Client Secret").optional(),
  SLACK_STATE_SECRET: z.string().min(24, "must be at least 24 random characters (openssl rand -hex 16)").optional(),
  SLACK_ALLOWED_WORKSPACES: z
    .string()
    .regex(
      /^\s*[TE][A-Z0-9]+\s*(,\s*[TE][A-Z0-9]+\s*)*$/,
      "must be comma-separated Slack workspace (T…) or Enterprise Grid (E…) ids",
    )
    .optional(),
  SLACK_API_URL: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL ending in /api/" })
    .default("https://slack.com/api/"),
  TEAMS_APP_ID: z.uuid("must be the bot's Microsoft App ID (a GUID)").optional(),
  TEAMS_APP_PASSWORD: z.string().min(1).optional(),
  TEAMS_TENANT_ID: z.uuid("must be your Microsoft Entra tenant id (a GUID)").optional(),
  PAGERDUTY_API_TOKEN: z.string().min(8, "must be a PagerDuty REST API key").optional(),
  PAGERDUTY_ROUTING_KEY: z
    .string()
    .min(8, "must be the integration key of a PagerDuty Events API v2 integration")
    .optional(),
  PAGERDUTY_API_URL: z.url({ protocol: /^https?$/ }).default("https://api.pagerduty.com"),
  PAGERDUTY_EVENTS_URL: z.url({ protocol: /^https?$/ }).default("https://events.pagerduty.com"),
  PAGERDUTY_WEBHOOK_SECRET: z
    .string()
    .min(16, "must be the signing secret PagerDuty showed when the webhook subscription was created")
    .optional(),
  OPSGENIE_API_KEY: z.string().min(8, "must be an Opsgenie API integration key").optional(),
  OPSGENIE_API_URL: z.url({ protocol: /^https?$/ }).default("https://api.opsgenie.com"),
  TEAMS_DEV_NO_AUTH: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  SESAME_ADMISSION_PORT: z.coerce
    .number()
    .int()
    .min(0, "must be a port number (0 picks a free port)")
    .max(65535, "must be a port number up to 65535")
    .optional(),
  SESAME_ADMISSION_TLS_CERT: z.string().min(1).optional(),
  SESAME_ADMISSION_TLS_KEY: z.string().min(1).optional(),
  // Plain HTTP on PORT has no authentication at all: anyone who reaches PORT could write audit
  // events in anyone's name and learn who holds a grant. Off unless asked for (tests, benches).
  SESAME_ADMISSION_PLAIN_HTTP: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  // Metrics (README "Operations → Metrics"): web processes serve /metrics on PORT, workers on this port.
  SESAME_METRICS_PORT: z.coerce
    .number()
    .int()
    .min(0, "must be a port number (0 picks a free port)")
    .max(65535, "must be a port number up to 65535")
    .optional(),
  SESAME_METRICS_TOKEN: z
    .string()
    .min(24, "must be at least 24 random characters (openssl rand -hex 24): scrapes send it as a bearer token")
    .optional(),
});

export type Env = z.infer<typeof EnvSchema>;

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Sesame cannot start; fix these environment variables:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "EnvError";
  }
}

/**
 * Parses the environment, naming every problem (one line each) without echoing any value.
 * `only` limits the check to what a command needs (e.g. `sesame audit verify` needs no Redis).
 */
export function parseEnv(source: Record<string, string | undefined> = process.env, only?: readonly (keyof Env)[]): Env {
  const input = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ""));
  const schema = only
    ? EnvSchema.partial().required(
        Object.fromEntries(only.map((key) => [key, true])) as Partial<Record<keyof Env, true>>,
      )
    : EnvSchema;
  const result = schema.safeParse(input);
  if (result.success) return result.data as Env;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "environment");
    const missing = issue.code === "invalid_type" && input[name] === undefined;
    return missing ? `${name}: is required but not set` : `${name}: ${issue.message}`;
  });
  throw new EnvError(problems);
}

/** Parses SESAME_API_TOKENS into identity/token pairs. */
export function envApiTokens(env: Env): { identityId: string; token: string }[] {
  if (!env.SESAME_API_TOKENS) return [];
  return env.SESAME_API_TOKENS.split(",").map((pair) => {
    const [identityId, token] = pair.trim().split("=") as [string, string];
    return { identityId, token };
  });
}

export type WorkerQueue = "grants" | "revokes" | "requests" | "escalations" | "chat";

/**
 * Jobs each worker process runs at once per queue. No job holds a database connection across a
 * connector call, so these may exceed the connection pool: a job waits for a connection only for
 * its short transactions. Revokes get the most: revoke jobs running at once share their round trips
 * (batches of up to a hundred), so a burst of expiries is cleared fast.
 */
export const DEFAULT_CONCURRENCY: Record<WorkerQueue, number> = {
  grants: 10,
  revokes: 300,
  requests: 10,
  escalations: 5,
  chat: 5,
};

export function concurrencyOf(env: Env, queue: WorkerQueue): number {
  const perQueue = {
    grants: env.SESAME_GRANTS_CONCURRENCY,
    revokes: env.SESAME_REVOKES_CONCURRENCY,
    requests: env.SESAME_REQUESTS_CONCURRENCY,
    escalations: env.SESAME_ESCALATIONS_CONCURRENCY,
    chat: env.SESAME_CHAT_CONCURRENCY,
  }[queue];
  return perQueue ?? env.SESAME_WORKER_CONCURRENCY ?? DEFAULT_CONCURRENCY[queue];
}
