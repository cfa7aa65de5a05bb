import swagger from "@fastify/swagger";
import Fastify, { type FastifyInstance } from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { DestinationStream } from "pino";
import type { ChatAdapter } from "../chat/core/chat-adapter.js";
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
  /** The Kubernetes admission webhook's routes (/k8s/admission), for local testing over HTTP. */
  admissionRoutes?: AdmissionRoutes;
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
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({
      error: {
        code: "not_found",
        message: `No route ${req.method} ${req.url}. The API lives under /api/v1 (see /api/v1/openapi.json).`,
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

  for (const adapter of options.chatAdapters ?? []) await app.register(async (scope) => adapter.registerRoutes(scope));
  if (options.admissionRoutes) await app.register(options.admissionRoutes);
  if (options.eventRoutes) await app.register(options.eventRoutes);

  await app.register(
    async (api) => {
      api.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
      await api.register(async (authenticated) => {
        authenticated.addHook("onRequest", requireIdentity(options.resolveToken));
        await authenticated.register(requestRoutes(options.deps));
        await authenticated.register(grantRoutes(options.deps));
      });
    },
    { prefix: "/api/v1" },
  );
  return app;
}
