import type { RequestRow } from "../domain/access-request.js";
import type { AuditInput } from "../domain/audit-event.js";
import { awaitedDecidersOf, viewersOf } from "../domain/visibility.js";
import type { GrantFilter, RequestFilter, Store, StoreReader, UnitOfWork } from "../services/ports.js";
import { actionRunReader, actionRunWriter } from "./action-run-repository.js";
import { appendAuditEvents } from "./audit-repository.js";
import type { Grant, Prisma } from "./generated/prisma/client.js";
import { grantBatches } from "./grant-batches.js";
import { grantExpiryPages } from "./grant-expiry-pages.js";
import { namedLeases } from "./named-leases.js";
import type { Database } from "./prisma-client.js";
import { recordRetention } from "./record-retention.js";
import { asJson, fromLockedRequest, type LockedRequest, toGrantRow, toRequestRow } from "./row-mappers.js";

type Client = Database | Prisma.TransactionClient;

/** A request is read with its decisions and the id of the grant it created. */
const REQUEST_INCLUDE = { decisions: true, grant: { select: { id: true } } } as const;

function reader(client: Client): StoreReader {
  return {
    async getRequest(id) {
      const row = await client.accessRequest.findUnique({ where: { id }, include: REQUEST_INCLUDE });
      return row ? toRequestRow(row) : null;
    },
    async listRequests(filter: RequestFilter) {
      const rows = await client.accessRequest.findMany({
        where: {
          ...(filter.viewerId ? { viewerIds: { has: filter.viewerId } } : {}),
          ...(filter.approverId ? { awaitingIds: { has: filter.approverId } } : {}),
          ...(filter.status ? { status: { in: filter.status } } : {}),
          ...(filter.requesterId ? { requesterId: filter.requesterId } : {}),
          ...(filter.resourceId ? { resourceId: filter.resourceId } : {}),
          ...(filter.pendingUntilBefore ? { pendingUntil: { lte: filter.pendingUntilBefore } } : {}),
          ...(filter.unreviewedBreakGlass ? { breakGlass: true, reviewedAt: null } : {}),
        },
        include: REQUEST_INCLUDE,
        orderBy: { createdAt: "desc" },
        take: filter.limit ?? 100,
      });
      return rows.map(toRequestRow);
    },
    async getGrant(id) {
      const row = await client.grant.findUnique({ where: { id } });
      return row ? toGrantRow(row) : null;
    },
    async getGrantByRequest(requestId) {
      const row = await client.grant.findUnique({ where: { requestId } });
      return row ? toGrantRow(row) : null;
    },
    async listGrants(filter: GrantFilter) {
      const rows = await client.grant.findMany({
        where: {
          ...(filter.status ? { status: { in: filter.status } } : {}),
          ...(filter.subjectId ? { subjectId: filter.subjectId } : {}),
          ...(filter.resourceId ? { resourceId: filter.resourceId } : {}),
          ...(filter.expiresBefore ? { expiresAt: { lte: filter.expiresBefore } } : {}),
          ...(filter.updatedBefore ? { updatedAt: { lte: filter.updatedBefore } } : {}),
          ...(filter.notRevokedYet ? { revokedAt: null } : {}),
          ...(filter.incidentId
            ? {
                AND: [
                  { trigger: { path: ["kind"], equals: "pagerduty" } },
                  { trigger: { path: ["incidentId"], equals: filter.incidentId } },
                ],
              }
            : {}),
        },
        orderBy: { createdAt: "desc" },
        take: filter.limit ?? 100,
      });
      return rows.map(toGrantRow);
    },
  };
}

/** The columns the list queries filter on, derived from the request as it is saved. */
function visibilityColumns(request: Pick<RequestRow, "requesterId" | "snapshot" | "status" | "currentStep">) {
  return { viewerIds: viewersOf(request), awaitingIds: awaitedDecidersOf(request) };
}

/** An audit event waiting for the end of its transaction, with the moment it happened. */
interface PendingAudit {
  event: AuditInput;
  at: Date;
}

function unitOfWork(tx: Prisma.TransactionClient, pendingAudit: PendingAudit[]): UnitOfWork {
  const batches = grantBatches(tx);
  return {
    ...reader(tx),
    ...batches,
    ...recordRetention(tx),
    ...actionRunReader(tx),
    ...actionRunWriter(tx),
    // One round trip each: the row, locked, with what a request is read with.
    async lockRequest(id) {
      const [row] = await tx.$queryRaw<LockedRequest[]>`
        SELECT r.*,
          (SELECT g.id FROM "Grant" g WHERE g."requestId" = r.id) AS "lockedGrantId",
          COALESCE((SELECT json_agg(json_build_object('approverId', d."approverId", 'kind', d.kind, 'step', d.step,
                                      'comment', d.comment, 'createdAt', d."createdAt") ORDER BY d."createdAt")
                    FROM "Decision" d WHERE d."requestId" = r.id), '[]'::json) AS "lockedDecisions"
        FROM "AccessRequest" r WHERE r.id = ${id} FOR UPDATE OF r`;
      return row ? fromLockedRequest(row) : null;
    },
    async lockGrant(id) {
      const [row] = await tx.$queryRaw<Grant[]>`SELECT * FROM "Grant" WHERE id = ${id} FOR UPDATE`;
      return row ? toGrantRow(row) : null;
    },
    async createRequest(row) {
      const { snapshot, decisions: _none, grantId: _noGrantYet, escalationLog, ...rest } = row;
      await tx.accessRequest.create({
        data: {
          ...rest,
          policySnapshot: asJson(snapshot),
          escalationLog: asJson(escalationLog),
          ...visibilityColumns(row),
        },
      });
    },
    async updateRequest(current, patch) {
      // grantId is the grant row's link to its request, not a column of the request.
      const { snapshot, escalationLog, grantId, ...rest } = patch;
      const data = {
        ...rest,
        ...(snapshot ? { policySnapshot: asJson(snapshot) } : {}),
        ...(escalationLog ? { escalationLog: asJson(escalationLog) } : {}),
        ...visibilityColumns({
          requesterId: current.requesterId,
          snapshot: patch.snapshot ?? current.snapshot,
          status: patch.status ?? current.status,
          currentStep: patch.currentStep ?? current.currentStep,
        }),
        version: { increment: 1 },
      };
      const [row] = await tx.accessRequest.updateManyAndReturn({
        where: { id: current.id, version: current.version },
        data,
      });
      if (!row) return null;
      return { ...toRequestRow(row), decisions: [...current.decisions], grantId: grantId ?? current.grantId };
    },
    async addDecision(requestId, decision) {
      await tx.decision.create({ data: { requestId, ...decision } });
    },
    async createGrant(data) {
      const { trigger, ...rest } = data;
      const row = await tx.grant.create({
        data: { ...rest, target: asJson(rest.target), ...(trigger ? { trigger: asJson(trigger) } : {}) },
      });
      return toGrantRow(row);
    },
    async updateGrant(current, patch) {
      const { receipt, ...rest } = patch;
      const [row] = await tx.grant.updateManyAndReturn({
        where: { id: current.id, version: current.version },
        data: { ...rest, ...(receipt ? { receipt: asJson(receipt) } : {}), version: { increment: 1 } },
      });
      return row ? toGrantRow(row) : null;
    },
    async countOtherActiveHolders(entitlementKey, excludingGrantId) {
      return tx.grant.count({ where: { entitlementKey, status: "active", id: { not: excludingGrantId } } });
    },
    claimEntitlement: async (claim) => (await batches.claimEntitlements([claim])).has(claim.grantId),
    releaseEntitlement: (key, grantId, owner) => batches.releaseEntitlements([{ key, grantId, owner }]),
    // Buffered and written when the work is done (audit rows come last in a transaction), each
    // with the moment it happened. Writing one takes no lock: the chainer links it after commit.
    appendAudit: async (event) => void pendingAudit.push({ event, at: new Date() }),
  };
}

export function createPrismaStore(db: Database): Store {
  return {
    ...reader(db),
    ...namedLeases(db),
    ...grantExpiryPages(db),
    ...actionRunReader(db),
    transaction(work, options) {
      return db.$transaction(
        async (tx) => {
          const pendingAudit: PendingAudit[] = [];
          const result = await work(unitOfWork(tx, pendingAudit));
          await appendAuditEvents(tx, pendingAudit);
          return result;
        },
        { timeout: options?.timeoutMs ?? 15_000, maxWait: 10_000 },
      );
    },
    async claimGrantForCall(grantId, statuses, claim) {
      // `prior` reads the lease as it was before this statement's upsert (one snapshot for all parts).
      const [row] = await db.$queryRaw<(Grant & { claimed: boolean; unfinishedBefore: boolean })[]>`
        WITH g AS (SELECT * FROM "Grant" WHERE id = ${grantId} AND status::text = ANY(${[...statuses]}) FOR UPDATE),
        prior AS (
          SELECT 1 FROM "EntitlementLease" l JOIN g ON l."key" = g."entitlementKey"
          WHERE l."grantId" = g.id AND l."operation" = ${claim.operation}),
        lease AS (
          INSERT INTO "EntitlementLease" ("key", "grantId", "operation", "owner", "expiresAt")
          SELECT g."entitlementKey", g.id, ${claim.operation}, ${claim.owner}, now() + make_interval(secs => ${claim.ttlSeconds})
          FROM g
          ON CONFLICT ("key") DO UPDATE SET "grantId" = EXCLUDED."grantId", "operation" = EXCLUDED."operation",
            "owner" = EXCLUDED."owner", "expiresAt" = EXCLUDED."expiresAt"
          WHERE "EntitlementLease"."expiresAt" <= now()
          RETURNING "grantId")
        SELECT g.*, EXISTS (SELECT 1 FROM lease) AS claimed, EXISTS (SELECT 1 FROM prior) AS "unfinishedBefore" FROM g`;
      if (!row) return null;
      const { claimed, unfinishedBefore, ...grant } = row;
      return { grant: toGrantRow(grant), claimed, unfinishedBefore: claimed && unfinishedBefore };
    },
    async renewLeases(owner, ttlSeconds, grantIds) {
      if (grantIds.length === 0) return 0;
      return db.$executeRaw`
        UPDATE "EntitlementLease" SET "expiresAt" = now() + make_interval(secs => ${ttlSeconds})
        WHERE "owner" = ${owner} AND "grantId" = ANY(${[...grantIds]}::text[])`;
    },
    async releaseLeases(owner) {
      await db.entitlementLease.deleteMany({ where: { owner } });
    },
    async listUnleasedGrants(statuses, { olderThan, limit }) {
      const ids = await db.$queryRaw<{ id: string }[]>`
        SELECT g.id FROM "Grant" g
        WHERE g.status = ANY(CAST(${statuses} AS "GrantStatus"[])) AND g."updatedAt" <= ${olderThan}
          AND NOT EXISTS (SELECT 1 FROM "EntitlementLease" l WHERE l."grantId" = g.id AND l."expiresAt" > now())
        ORDER BY g."updatedAt" LIMIT ${limit}`;
      if (ids.length === 0) return [];
      const rows = await db.grant.findMany({ where: { id: { in: ids.map((row) => row.id) } } });
      return rows.map(toGrantRow);
    },
    async readSealedSecret(grantId) {
      const row = await db.grant.findUnique({ where: { id: grantId }, select: { sealedSecret: true } });
      return row?.sealedSecret ?? null;
    },
  };
}
