import type { FastifyInstance, RawServerBase } from "fastify";
import type { AdmissionHandler } from "../admission/admission-handler.js";

/**
 * The validating admission webhook: `POST /k8s/admission` weighs a review against every guardrail;
 * `POST /k8s/admission/<guardrail>` against that one only (the generated webhook configuration
 * gives each guardrail its own entry and namespaceSelector, and so its own path).
 */

/**
 * An UPDATE review carries the object and its old version, each up to etcd's 1.5 MiB: refusing a
 * big review with 413 would refuse the operation under failurePolicy Fail.
 */
const REVIEW_BODY_LIMIT = 8 * 1024 * 1024;

/** Mounted on the HTTP server and on the HTTPS port alike. */
export type AdmissionRoutes = <Server extends RawServerBase>(app: FastifyInstance<Server>) => Promise<void>;

export function admissionRoutes(handle: AdmissionHandler): AdmissionRoutes {
  return async (app) => {
    const options = { bodyLimit: REVIEW_BODY_LIMIT, schema: { hide: true } };
    app.post("/k8s/admission", options, async (req, reply) => {
      const answer = handle(req.body);
      return reply.status(answer.status).send(answer.body);
    });
    app.post<{ Params: { guardrail: string } }>("/k8s/admission/:guardrail", options, async (req, reply) => {
      const answer = handle(req.body, req.params.guardrail);
      return reply.status(answer.status).send(answer.body);
    });
  };
}
