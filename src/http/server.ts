import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import type { DestinationStream } from "pino";
import type { ChatAdapter } from "../chat/core/chat-adapter.js";
import { AppError } from "../domain/errors.js";
import { API_RATE_WINDOW_MS, apiRateLimitStore } from "../jobs/rate-limiter.js";
import { scrapeAllowed, UNAUTHORIZED_BODY } from "../metrics/metrics-endpoint.js";
import type { SesameMetrics } from "../metrics/sesame-metrics.js";
import type { ServiceDeps } from "../services/deps.js";
import type { AdmissionRoutes } from "./admission-routes.js";
import { requireIdentity, type TokenResolver } from "./authenticate.js";
import { handleError } from "./error-handler.js";
import { requestLogFields } from "./request-log.js";
import { grantRoutes } from "./routes/grant-routes.js";
import { requestRoutes } from "./routes/request-routes.js";

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
  /**
   * Whether Sesame cannot serve without it. A failed required check makes /readyz answer 503
   * ("unreachable"); a failed optional one leaves it ready and reports it "degraded".
   */
  required: boolean;
}

export interface ServerOptions {
  deps: ServiceDeps;
  resolveToken: TokenResolver;
  readiness: ReadinessCheck[];
  logLevel?: string;
  /** Where the request log goes (default stdout). */
  logStream?: DestinationStream;
  /** Slack (/slack/*) and Teams (/api/messages) mount their own endpoints. */
  chatAdapters?: ChatAdapter[];
  /** The Kubernetes admission webhook's routes (/k8s/admission) on PORT: local testing only (SESAME_ADMISSION_PLAIN_HTTP). */
  admissionRoutes?: AdmissionRoutes;
  /** SESAME_RATE_LIMIT: API requests per minute per identity, counted in the shared Redis. */
  rateLimit?: { max: number; redis: Redis; prefix: string };
  /** GET /metrics for Prometheus, behind SESAME_METRICS_TOKEN when it is set. */
  metrics?: { registry: Pick<SesameMetrics, "scrape">; token?: string };
  /** Signed inbound events (POST /events/:source), in their own scope (raw-body parsing). */
  eventRoutes?: (app: FastifyInstance) => Promise<void>;
}

/** One HTTP server: health, readiness, the chat platforms' endpoints, the REST API and its OpenAPI document. */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: options.logLevel ?? "info",
      redact: ["req.headers.authorization"],
      stream: options.logStream,
      serializers: { req: requestLogFields },
    },
    // One line per request, once it is answered, instead of Fastify's two (arrival and answer).
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();
  app.addHook("onResponse", async (req, reply) => {
    req.log.info({ req, res: reply, responseTime: reply.elapsedTime }, "request completed");
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({
      error: {
        code: "not_found",
        message: `No route ${req.method} ${req.url}. The API lives under /api/v1 (see /api/v1/docs, or /api/v1/openapi.json).`,
      },
    }),
  );

  await app.register(swagger, {
    openapi: {
      info: { title: "Sesame API", version: "1", description: "Just-in-time access requests, approvals and grants." },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  // The same document, for people: Swagger UI (its assets are served from the package, no CDN).
  await app.register(swaggerUi, { routePrefix: "/api/v1/docs", staticCSP: true });

  app.get("/healthz", async () => ({ ok: true }));
  app.get("/readyz", async (_req, reply) => {
    const results = await Promise.all(
      options.readiness.map(async ({ name, check, required }) => {
        try {
          await check();
          return [name, "ok"] as const;
        } catch {
          return [name, required ? ("unreachable" as const) : ("degraded" as const)] as const;
        }
      }),
    );
    const ready = results.every(([, state]) => state !== "unreachable");
    return reply.status(ready ? 200 : 503).send({ ready, checks: Object.fromEntries(results) });
  });

  const metrics = options.metrics;
  if (metrics)
    app.get("/metrics", { schema: { hide: true } }, async (req, reply) => {
      if (!scrapeAllowed(req.headers.authorization, metrics.token))
        return reply.status(401).header("www-authenticate", "Bearer").type("application/json").send(UNAUTHORIZED_BODY);
      const { contentType, body } = await metrics.registry.scrape();
      return reply.type(contentType).send(body);
    });

  for (const adapter of options.chatAdapters ?? []) await app.register(async (scope) => adapter.registerRoutes(scope));
  if (options.admissionRoutes) await app.register(options.admissionRoutes);
  if (options.eventRoutes) await app.register(options.eventRoutes);

  await app.register(
    async (api) => {
      api.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
      await api.register(async (authenticated) => {
        authenticated.addHook("onRequest", requireIdentity(options.resolveToken));
        if (options.rateLimit) {
          const { max } = options.rateLimit;
          // After authentication (preHandler), so the key is the identity, never a guessable address.
          await authenticated.register(rateLimit, {
            hook: "preHandler",
            max,
            timeWindow: API_RATE_WINDOW_MS,
            // Counts that arrive together share one Redis call (src/jobs/rate-limiter.ts).
            store: apiRateLimitStore(options.rateLimit.redis, `${options.rateLimit.prefix}:rate-limit:api:`),
            keyGenerator: (request) => request.identityId,
            // Redis down: the API keeps working unlimited rather than failing.
            skipOnError: true,
            errorResponseBuilder: (_request, context) =>
              new AppError(
                "rate_limited",
                `Too many requests: at most ${max} a minute per identity. Retry in ${Math.ceil(context.ttl / 1000)} s.`,
              ),
          });
        }
        await authenticated.register(requestRoutes(options.deps));
        await authenticated.register(grantRoutes(options.deps));
      });
    },
    { prefix: "/api/v1" },
  );
  return app;
}
