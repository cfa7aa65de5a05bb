import type { FastifyRequest } from "fastify";
import { AppError } from "../domain/errors.js";

/** Resolves a bearer token to the identity it acts as; null for an unknown or revoked token. */
export type TokenResolver = (token: string) => Promise<string | null>;

export async function authenticatedIdentity(request: FastifyRequest, resolve: TokenResolver): Promise<string> {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) throw new AppError("unauthenticated", "Send an API token as `Authorization: Bearer <token>` (create one with `sesame tokens create <identity>`).");
  const identityId = await resolve(match[1]!);
  if (!identityId) throw new AppError("unauthenticated", "This API token is unknown or revoked.");
  return identityId;
}
