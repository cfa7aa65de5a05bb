import type { GrantPatch, GrantRow } from "../domain/grant.js";
import type { UnitOfWork } from "../services/ports.js";
import type { Grant } from "./generated/prisma/client.js";
import { toGrantRow } from "./row-mappers.js";
import type { TransactionSql } from "./sql.js";
import { expectingRows, writtenFields } from "./sql-rows.js";

export interface GrantBatches
  extends Pick<
    UnitOfWork,
    "lockGrants" | "updateGrants" | "claimEntitlements" | "releaseEntitlements" | "countActiveHolders"
  > {
  /** updateGrants for grants this transaction holds locked at their versions: sent later. */
  updateHeldGrants(updates: readonly GrantUpdate[]): GrantRow[];
}

type GrantUpdate = { current: GrantRow; patch: GrantPatch };

/**
 * One UPDATE for many grants, each checked against its own version. A field the patch leaves out
 * keeps its value; one it sets to null becomes NULL. @updatedAt is Prisma's (client-side) stamp,
 * set here like Prisma sets it.
 *
 * The ids are also given as an array: PostgreSQL guesses 100 rows for any jsonb_array_elements,
 * and with that guess it hashed the patches and read the whole Grant table (dead rows included) for
 * each update of one grant, until the table was some ten thousand rows large. `id = ANY(ids)` tells
 * it how few rows change, so it looks them up by primary key.
 */
export function updateGrantsStatement(updates: readonly GrantUpdate[]): {
  text: string;
  values: unknown[];
  updatedAt: Date;
} {
  const updatedAt = new Date();
  const patches = updates.map(({ current, patch }) => ({ ...patch, id: current.id, version: current.version }));
  return {
    text: `UPDATE "Grant" AS g SET
      "status" = CASE WHEN u.p ? 'status' THEN (u.p->>'status')::"GrantStatus" ELSE g."status" END,
      "expiresAt" = CASE WHEN u.p ? 'expiresAt' THEN (u.p->>'expiresAt')::timestamp(3) ELSE g."expiresAt" END,
      "activatedAt" = CASE WHEN u.p ? 'activatedAt' THEN (u.p->>'activatedAt')::timestamp(3) ELSE g."activatedAt" END,
      "revokedAt" = CASE WHEN u.p ? 'revokedAt' THEN (u.p->>'revokedAt')::timestamp(3) ELSE g."revokedAt" END,
      "revokeReason" = CASE WHEN u.p ? 'revokeReason' THEN u.p->>'revokeReason' ELSE g."revokeReason" END,
      "revokedById" = CASE WHEN u.p ? 'revokedById' THEN u.p->>'revokedById' ELSE g."revokedById" END,
      "receipt" = CASE WHEN u.p ? 'receipt' THEN NULLIF(u.p->'receipt', 'null'::jsonb) ELSE g."receipt" END,
      "sealedSecret" = CASE WHEN u.p ? 'sealedSecret' THEN u.p->>'sealedSecret' ELSE g."sealedSecret" END,
      "attempts" = CASE WHEN u.p ? 'attempts' THEN (u.p->>'attempts')::int ELSE g."attempts" END,
      "lastError" = CASE WHEN u.p ? 'lastError' THEN u.p->>'lastError' ELSE g."lastError" END,
      "version" = g."version" + 1,
      "updatedAt" = $1
      FROM jsonb_array_elements($2::jsonb) AS u(p)
      WHERE g."id" = ANY($3::text[]) AND g."id" = u.p->>'id' AND g."version" = (u.p->>'version')::int`,
    values: [updatedAt, JSON.stringify(patches), patches.map((patch) => patch.id)],
    updatedAt,
  };
}

/** A grant as its update saved it: the current row with the patch on top. */
function savedGrant({ current, patch }: GrantUpdate, updatedAt: Date): GrantRow {
  const { sealedSecret, receipt, ...fields } = writtenFields(patch);
  const hasSecret = sealedSecret === undefined ? current.hasSecret : sealedSecret !== null;
  // A copy, as a row read back would be: later changes to the patch must not reach it.
  const saved = receipt === undefined ? {} : { receipt: receipt && structuredClone(receipt) };
  return { ...current, ...fields, ...saved, hasSecret, version: current.version + 1, updatedAt };
}

/**
 * The unit of work's batch operations: one statement for any number of grants, so a burst of
 * revokes costs a few round trips per batch instead of a dozen per grant. Rows go in as arrays
 * (unnest) or one JSON document (patches, whose fields differ from grant to grant).
 */
export function grantBatches(sql: TransactionSql): GrantBatches {
  return {
    async lockGrants(ids) {
      if (ids.length === 0) return [];
      const rows = await sql.rows<Grant>(
        `
        SELECT * FROM "Grant" WHERE "id" = ANY($1::text[]) ORDER BY "id" FOR UPDATE`,
        [[...ids]],
      );
      return rows.map(toGrantRow);
    },
    async updateGrants(updates) {
      if (updates.length === 0) return [];
      const { text, values, updatedAt } = updateGrantsStatement(updates);
      const rows = await sql.rows<{ id: string }>(`${text} RETURNING g."id"`, values);
      // The saved row is the current one with the patch on top: only ids come back, not a
      // hundred whole rows to decode again.
      const saved = new Set(rows.map((row) => row.id));
      return updates.map((update) => (saved.has(update.current.id) ? savedGrant(update, updatedAt) : null));
    },
    updateHeldGrants(updates) {
      if (updates.length === 0) return [];
      const { text, values, updatedAt } = updateGrantsStatement(updates);
      sql.later(expectingRows(text, new Set(updates.map(({ current }) => current.id)).size), values);
      return updates.map((update) => savedGrant(update, updatedAt));
    },
    async claimEntitlements(claims) {
      if (claims.length === 0) return new Set();
      // Taken when free or when the last holder's lease ran out (its process died); a live lease,
      // even one of the same grant's earlier attempt, is never taken over. Keys in order, so two
      // batches claiming overlapping entitlements wait for each other instead of deadlocking.
      const sorted = [...claims].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const column = <K extends keyof (typeof claims)[number]>(key: K) => sorted.map((claim) => claim[key]);
      const rows = await sql.rows<{ grantId: string }>(
        `
        INSERT INTO "EntitlementLease" ("key", "grantId", "operation", "owner", "expiresAt")
        SELECT c.key, c.grant_id, c.operation, c.owner, now() + make_interval(secs => c.ttl)
        FROM unnest($1::text[], $2::text[], $3::text[],
                    $4::text[], $5::float8[])
             WITH ORDINALITY AS c(key, grant_id, operation, owner, ttl, n)
        ORDER BY c.n
        ON CONFLICT ("key") DO UPDATE SET "grantId" = EXCLUDED."grantId", "operation" = EXCLUDED."operation",
          "owner" = EXCLUDED."owner", "expiresAt" = EXCLUDED."expiresAt"
        WHERE "EntitlementLease"."expiresAt" <= now()
        RETURNING "grantId"`,
        [column("key"), column("grantId"), column("operation"), column("owner"), column("ttlSeconds")],
      );
      return new Set(rows.map((row) => row.grantId));
    },
    // Nobody waits for the answer: it goes with the transaction's next round trip.
    async releaseEntitlements(releases) {
      if (releases.length === 0) return;
      sql.later(
        `DELETE FROM "EntitlementLease" AS l
         USING unnest($1::text[], $2::text[], $3::text[]) AS r(key, grant_id, owner)
         WHERE l."key" = r.key AND l."grantId" = r.grant_id AND l."owner" = r.owner`,
        [releases.map((r) => r.key), releases.map((r) => r.grantId), releases.map((r) => r.owner)],
      );
    },
    async countActiveHolders(keys) {
      if (keys.length === 0) return new Map();
      const rows = await sql.rows<{ key: string; holders: number }>(
        `
        SELECT "entitlementKey" AS key, count(*)::int AS holders FROM "Grant"
        WHERE "entitlementKey" = ANY($1::text[]) AND "status" = 'active'
        GROUP BY "entitlementKey"`,
        [[...new Set(keys)]],
      );
      return new Map(rows.map((row) => [row.key, row.holders]));
    },
  };
}
