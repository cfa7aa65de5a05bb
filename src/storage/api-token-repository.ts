import { createHash, randomBytes } from "node:crypto";
import type { Database } from "./prisma-client.js";

/** API tokens are stored as sha256 hashes; the token itself is shown once, at creation. */
const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex");

export async function createApiToken(db: Database, identityId: string, name: string): Promise<string> {
  const token = `ses_${randomBytes(32).toString("base64url")}`;
  await db.apiToken.create({ data: { identityId, name, tokenHash: hashToken(token) } });
  return token;
}

/** Returns the identity a token acts as, or null for an unknown or revoked token. */
export async function identityForToken(db: Database, token: string): Promise<string | null> {
  const row = await db.apiToken.findUnique({
    where: { tokenHash: hashToken(token) },
    select: { id: true, identityId: true, revokedAt: true },
  });
  if (!row || row.revokedAt) return null;
  await db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
  return row.identityId;
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
