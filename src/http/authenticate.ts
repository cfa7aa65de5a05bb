import type { FastifyRequest } from "fastify";
import { AppError } from "../domain/errors.js";

/** Resolves a bearer token to the identity it acts as; null for an unknown or revoked token. */
export type TokenResolver = (token: string) => Promise<string | null>;

declare module "fastify" {
  interface FastifyRequest {
    /** The identity the request's API token acts as; set by `requireIdentity` before any handler runs. */
    identityId: string;
  }
}

/**
 * An onRequest hook for every authenticated route: no handler can forget to authenticate, and a
 * request without a valid token gets 401 before its body is even looked at.
 */
export function requireIdentity(resolve: TokenResolver): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match)
      throw new AppError(
        "unauthenticated",
        "Send an API token as `Authorization: Bearer <token>` (create one with `sesame tokens create <identity>`).",
      );
    const identityId = await resolve(match[1]!);
    if (!identityId) throw new AppError("unauthenticated", "This API token is unknown or revoked.");
    request.identityId = identityId;
  };
}
