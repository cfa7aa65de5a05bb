import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { type AppErrorCode, isAppError } from "../domain/errors.js";
import { isDatabaseUnavailable, isDatabaseUnreachable } from "../storage/database-errors.js";

const STATUS: Record<AppErrorCode, number> = {
  invalid_input: 400,
  not_found: 404,
  unauthenticated: 401,
  forbidden: 403,
  conflict: 409,
  already_decided: 409,
  stale: 409,
  policy_violation: 422,
  connector_failed: 502,
  config_invalid: 500,
  internal: 500,
  rate_limited: 429,
};

/** A connection refused fails at once, and a lost server is usually back, or failed over, within seconds. */
const RETRY_AFTER_SECONDS = 5;

/** Every error becomes `{ error: { code, message, fields? } }` with a message a person can act on. */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? "body";
    const fields = error.validation.map((issue) => ({
      field: [where, ...issue.instancePath.split("/").filter(Boolean)].join("."),
      problem: issue.message ?? "is invalid",
    }));
    return reply.status(400).send({
      error: { code: "invalid_input", message: fields.map((f) => `${f.field}: ${f.problem}`).join("; "), fields },
    });
  }
  if (isAppError(error)) {
    const status = STATUS[error.code];
    if (status >= 500) request.log.error({ code: error.code, err: error.message }, "request failed");
    return reply.status(status).send({
      error: { code: error.code, message: error.userMessage, ...(error.details ? { details: error.details } : {}) },
    });
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    const message =
      error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error.code === "FST_ERR_CTP_EMPTY_JSON_BODY"
        ? "The body is not valid JSON."
        : error.message;
    return reply.status(error.statusCode).send({ error: { code: "invalid_input", message } });
  }
  if (isDatabaseUnavailable(error)) {
    // An outage is logged once, by the database's outage log (storage/observed-adapter.ts), not per
    // request; a pool too busy to give out a connection is worth a line each time.
    if (!isDatabaseUnreachable(error)) request.log.warn({ err: error.message }, "no database connection free in time");
    return reply
      .status(503)
      .header("retry-after", String(RETRY_AFTER_SECONDS))
      .send({
        error: {
          code: "unavailable",
          message: `Sesame could not reach its database to complete this request. Retry in ${RETRY_AFTER_SECONDS} seconds; if it keeps failing, tell a Sesame admin.`,
        },
      });
  }
  request.log.error({ err: error }, "unexpected error");
  return reply.status(500).send({
    error: {
      code: "internal",
      message:
        "Something went wrong on Sesame's side; the error is logged. Try again, and tell an admin if it persists.",
    },
  });
}
