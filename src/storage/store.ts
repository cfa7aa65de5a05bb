import type { AuditInput } from "../domain/audit-event.js";
import type { GrantChange, GrantRow } from "../domain/grant.js";
import type { Store, UnitOfWork } from "../services/ports.js";
import { actionRunReader, actionRunWriter } from "./action-run-repository.js";
import { auditInsert } from "./audit-repository.js";
import type { Grant } from "./generated/prisma/client.js";
import { grantBatches } from "./grant-batches.js";
import { grantExpiryPages } from "./grant-expiry-pages.js";
import { grantReads, grantWrites, sharedGrantRead } from "./grant-sql.js";
import { namedLeases } from "./named-leases.js";
import { type Database, sqlPoolOf } from "./prisma-client.js";
import { recordRetention } from "./record-retention.js";
import { requestReads, requestWrites, sharedRequestRead } from "./request-sql.js";
import { toGrantRow } from "./row-mappers.js";
import type { TransactionSql } from "./sql.js";

/**
 * Requests, grants, decisions, leases and their audit events go through plain SQL on Prisma's pool
 * (src/storage/sql.ts says why); the rarer reads and leases keep Prisma's client.
 */

/** An audit event waiting for the end of its transaction, with the moment it happened. */
interface PendingAudit {
  event: AuditInput;
  at: Date;
}

/**
 * The rows this transaction holds locked (FOR UPDATE, or written), at the version it last saw or
 * wrote. Nobody else can move such a row before the commit, so its update needs no answer: it
 * goes with the transaction's next round trip, and the saved row is worked out here.
 */
function heldRows() {
  const versions = new Map<string, number>();
  return {
    hold<R extends { id: string; version: number }>(kind: "request" | "grant", row: R | null): R | null {
      if (row) versions.set(`${kind}:${row.id}`, row.version);
      return row;
    },
    holds: (kind: "request" | "grant", row: { id: string; version: number }) =>
      versions.get(`${kind}:${row.id}`) === row.version,
  };
}

/** What a grant's listeners are told: a new grant, or a new status or expiry. */
function grantChanges() {
  const changes = new Map<string, GrantChange>();
  return {
    changes: () => [...changes.values()],
    saved<R extends GrantRow | null>(current: GrantRow | undefined, saved: R): R {
      // A later update of a grant already told of (its attempts, say) moves the version told.
      if (
        saved &&
        (changes.has(saved.id) ||
          !current ||
          current.status !== saved.status ||
          current.expiresAt.getTime() !== saved.expiresAt.getTime())
      ) {
        const { id, subjectId, resourceId, status, expiresAt, version } = saved;
        changes.set(id, { id, subjectId, resourceId, status, expiresAt, version, grant: saved });
      }
      return saved;
    },
  };
}

type GrantChangeLog = ReturnType<typeof grantChanges>;

function unitOfWork(sql: TransactionSql, pendingAudit: PendingAudit[], changed: GrantChangeLog): UnitOfWork {
  const batches = grantBatches(sql);
  const requests = requestWrites(sql);
  const grants = grantWrites(sql);
  const { hold, holds } = heldRows();
  return {
    ...requestReads(sql),
    ...requests,
    ...grantReads(sql),
    ...grants,
    ...batches,
    ...recordRetention(sql),
    ...actionRunReader(sql),
    ...actionRunWriter(sql),
    lockRequest: async (id) => hold("request", await requests.lockRequest(id)),
    createGrant: async (data) => changed.saved(undefined, await grants.createGrant(data)),
    lockGrant: async (id) => hold("grant", await grants.lockGrant(id)),
    lockGrants: async (ids) => (await batches.lockGrants(ids)).map((row) => hold("grant", row)!),
    updateRequest: async (current, patch) =>
      hold(
        "request",
        holds("request", current)
          ? requests.updateHeldRequest(current, patch)
          : await requests.updateRequest(current, patch),
      ),
    updateGrant: async (current, patch) =>
      hold(
        "grant",
        changed.saved(
          current,
          holds("grant", current) ? grants.updateHeldGrant(current, patch) : await grants.updateGrant(current, patch),
        ),
      ),
    updateGrants: async (updates) => {
      const saved = updates.every(({ current }) => holds("grant", current))
        ? batches.updateHeldGrants(updates)
        : await batches.updateGrants(updates);
      // In the order of `updates`, null where a version had moved.
      return saved.map((row, i) => hold("grant", changed.saved(updates[i]!.current, row)));
    },
    claimEntitlement: async (claim) => (await batches.claimEntitlements([claim])).has(claim.grantId),
    releaseEntitlement: (key, grantId, owner) => batches.releaseEntitlements([{ key, grantId, owner }]),
    // Buffered and written when the work is done (audit rows come last in a transaction), each
    // with the moment it happened. Writing one takes no lock: the chainer links it after commit.
    appendAudit: async (event) => void pendingAudit.push({ event, at: new Date() }),
  };
}

export interface StoreOptions {
  /** Told, after each commit, of the grants it created or whose status or expiry it changed. */
  grantsCommitted?: (changes: readonly GrantChange[]) => void;
}

export function createStore(db: Database, options: StoreOptions = {}): Store {
  const pool = sqlPoolOf(db);
  return {
    ...requestReads(pool),
    ...grantReads(pool),
    getRequest: sharedRequestRead(pool),
    getGrant: sharedGrantRead(pool),
    ...namedLeases(db),
    ...grantExpiryPages(pool),
    ...actionRunReader(pool),
    async transaction(work, settings) {
      const pendingAudit: PendingAudit[] = [];
      const changed = grantChanges();
      const result = await pool.transaction((sql) => work(unitOfWork(sql, pendingAudit, changed)), {
        timeoutMs: settings?.timeoutMs ?? 15_000,
        // The audit rows come last, in the same round trip as the COMMIT.
        closing: () => auditInsert(pendingAudit),
      });
      const changes = changed.changes();
      if (changes.length > 0) options.grantsCommitted?.(changes);
      return result;
    },
    async claimGrantForCall(grantId, statuses, claim) {
      // `prior` reads the lease as it was before this statement's upsert (one snapshot for all parts).
      const [row] = await pool.rows<Grant & { claimed: boolean; unfinishedBefore: boolean }>(
        `WITH g AS (SELECT * FROM "Grant" WHERE id = $1 AND status::text = ANY($2::text[]) FOR UPDATE),
        prior AS (
          SELECT 1 FROM "EntitlementLease" l JOIN g ON l."key" = g."entitlementKey"
          WHERE l."grantId" = g.id AND l."operation" = $3),
        lease AS (
          INSERT INTO "EntitlementLease" ("key", "grantId", "operation", "owner", "expiresAt")
          SELECT g."entitlementKey", g.id, $3, $4, now() + make_interval(secs => $5::float8)
          FROM g
          ON CONFLICT ("key") DO UPDATE SET "grantId" = EXCLUDED."grantId", "operation" = EXCLUDED."operation",
            "owner" = EXCLUDED."owner", "expiresAt" = EXCLUDED."expiresAt"
          WHERE "EntitlementLease"."expiresAt" <= now()
          RETURNING "grantId")
        SELECT g.*, EXISTS (SELECT 1 FROM lease) AS claimed, EXISTS (SELECT 1 FROM prior) AS "unfinishedBefore" FROM g`,
        [grantId, [...statuses], claim.operation, claim.owner, claim.ttlSeconds],
      );
      if (!row) return null;
      const { claimed, unfinishedBefore, ...grant } = row;
      return { grant: toGrantRow(grant), claimed, unfinishedBefore: claimed && unfinishedBefore };
    },
    async renewLeases(owner, ttlSeconds, grantIds) {
      if (grantIds.length === 0) return 0;
      return pool.run(
        `UPDATE "EntitlementLease" SET "expiresAt" = now() + make_interval(secs => $1::float8)
         WHERE "owner" = $2 AND "grantId" = ANY($3::text[])`,
        [ttlSeconds, owner, [...grantIds]],
      );
    },
    async releaseLeases(owner) {
      await pool.run(`DELETE FROM "EntitlementLease" WHERE "owner" = $1`, [owner]);
    },
    async listUnleasedGrants(statuses, { olderThan, limit }) {
      const rows = await pool.rows<Grant>(
        `SELECT g.* FROM "Grant" g
         WHERE g.status = ANY($1::"GrantStatus"[]) AND g."updatedAt" <= $2
           AND NOT EXISTS (SELECT 1 FROM "EntitlementLease" l WHERE l."grantId" = g.id AND l."expiresAt" > now())
         ORDER BY g."updatedAt" LIMIT $3`,
        [statuses, olderThan, limit],
      );
      return rows.map(toGrantRow);
    },
    async readSealedSecret(grantId) {
      const [row] = await pool.rows<{ sealedSecret: string | null }>(
        `SELECT "sealedSecret" FROM "Grant" WHERE "id" = $1`,
        [grantId],
      );
      return row?.sealedSecret ?? null;
    },
  };
}
