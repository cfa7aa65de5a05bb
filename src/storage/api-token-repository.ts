import { createHash, randomBytes } from "node:crypto";
import type { Database } from "./prisma-client.js";

/** API tokens are stored as sha256 hashes; the token itself is shown once, at creation. */
const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex");

export async function createApiToken(db: Database, identityId: string, name: string): Promise<string> {
  const token = `ses_${randomBytes(32).toString("base64url")}`;
  await db.apiToken.create({ data: { identityId, name, tokenHash: hashToken(token) } });
  return token;
}

interface CachedToken {
  id: string | null;
  identityId: string | null;
  lookedUpAt: number;
  lastUsedWrittenAt: number;
}

/** How often a token's `lastUsedAt` is written at most: it says "in use lately", not every call. */
const LAST_USED_EVERY_MS = 60_000;
/** Tokens remembered at once; the oldest is forgotten first, so memory stays bounded. */
const CACHE_ENTRIES = 10_000;

/**
 * Resolves an API token to the identity it acts as (null: unknown or revoked). Answers are cached
 * for `cacheSeconds`, so a busy API does not read the token table on every call; a revoked token is
 * therefore refused at most `cacheSeconds` later (SESAME_TOKEN_CACHE).
 */
export function createTokenResolver(
  db: Database,
  options: { cacheSeconds: number; now?: () => number },
): (token: string) => Promise<string | null> {
  const now = options.now ?? Date.now;
  const cache = new Map<string, CachedToken>();
  const remember = (hash: string, entry: CachedToken) => {
    cache.delete(hash);
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(hash, entry);
  };
  return async (token) => {
    const hash = hashToken(token);
    const at = now();
    let entry = cache.get(hash);
    // A clock that went back (an adjusted host clock) makes an answer's age unknown: look again.
    const age = entry ? at - entry.lookedUpAt : -1;
    if (!entry || age < 0 || age >= options.cacheSeconds * 1000) {
      const row = await db.apiToken.findUnique({
        where: { tokenHash: hash },
        select: { id: true, identityId: true, revokedAt: true },
      });
      const valid = row !== null && row.revokedAt === null;
      entry = {
        id: valid ? row.id : null,
        identityId: valid ? row.identityId : null,
        lookedUpAt: at,
        lastUsedWrittenAt: entry?.lastUsedWrittenAt ?? 0,
      };
      remember(hash, entry);
    }
    const sinceWritten = at - entry.lastUsedWrittenAt;
    if (entry.id !== null && (sinceWritten < 0 || sinceWritten >= LAST_USED_EVERY_MS)) {
      entry.lastUsedWrittenAt = at;
      await db.apiToken.update({ where: { id: entry.id }, data: { lastUsedAt: new Date(at) } });
    }
    return entry.identityId;
  };
}

/** Makes the tokens given in SESAME_API_TOKENS valid (and revokes ones removed from it). */
export async function syncEnvApiTokens(db: Database, pairs: { identityId: string; token: string }[]): Promise<void> {
  const wanted = new Set(pairs.map((p) => hashToken(p.token)));
  await db.apiToken.updateMany({
    where: { name: { startsWith: "env:" }, revokedAt: null, tokenHash: { notIn: [...wanted] } },
    data: { revokedAt: new Date() },
  });
  for (const { identityId, token } of pairs) {
    const tokenHash = hashToken(token);
    await db.apiToken.upsert({
      where: { tokenHash },
      create: { identityId, name: `env:${identityId}`, tokenHash },
      update: { identityId, revokedAt: null },
    });
  }
}

export async function revokeApiTokens(db: Database, identityId: string, name?: string): Promise<number> {
  const { count } = await db.apiToken.updateMany({
    where: { identityId, revokedAt: null, ...(name ? { name } : {}) },
    data: { revokedAt: new Date() },
  });
  return count;
}
