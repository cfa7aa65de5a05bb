import { createHash } from "node:crypto";
import type { AuditInput, GrantFilter, RequestFilter, Store, StoreReader, UnitOfWork } from "../services/ports.js";
import { appendAuditEvent } from "./audit-repository.js";
import type { Prisma } from "./generated/prisma/client.js";
import type { Database } from "./prisma-client.js";
import { asJson, toGrantRow, toRequestRow } from "./row-mappers.js";

type Client = Database | Prisma.TransactionClient;

/** Advisory locks take a bigint key; derive a stable one from a name. */
function lockKey(name: string): bigint {
  return createHash("sha256").update(name).digest().readBigInt64BE(0);
}

function reader(client: Client): StoreReader {
  return {
    async getRequest(id) {
      const row = await client.accessRequest.findUnique({ where: { id }, include: { decisions: true } });
      return row ? toRequestRow(row) : null;
    },
    async listRequests(filter: RequestFilter) {
      const rows = await client.accessRequest.findMany({
        where: {
          ...(filter.status ? { status: { in: filter.status } } : {}),
          ...(filter.requesterId ? { requesterId: filter.requesterId } : {}),
          ...(filter.resourceId ? { resourceId: filter.resourceId } : {}),
          ...(filter.pendingUntilBefore ? { pendingUntil: { lte: filter.pendingUntilBefore } } : {}),
          ...(filter.unreviewedBreakGlass ? { breakGlass: true, reviewedAt: null } : {}),
        },
        include: { decisions: true },
        orderBy: { createdAt: "desc" },
        take: filter.approverId ? 1000 : (filter.limit ?? 100),
      });
      const mapped = rows.map(toRequestRow);
      if (!filter.approverId) return mapped;
      const approverId = filter.approverId;
      return mapped
        .filter((r) => r.snapshot.steps[r.currentStep]?.approverIds.includes(approverId))
        .slice(0, filter.limit ?? 100);
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
        },
        orderBy: { createdAt: "desc" },
        take: filter.limit ?? 100,
      });
      return rows.map(toGrantRow);
    },
  };
}

/** An audit event waiting for the end of its transaction, with the moment it happened. */
interface PendingAudit {
  event: AuditInput;
  at: Date;
}

function unitOfWork(tx: Prisma.TransactionClient, pendingAudit: PendingAudit[]): UnitOfWork {
  return {
    ...reader(tx),
    async lockRequest(id) {
      await tx.$queryRaw`SELECT id FROM "AccessRequest" WHERE id = ${id} FOR UPDATE`;
      return this.getRequest(id);
    },
    async lockGrant(id) {
      await tx.$queryRaw`SELECT id FROM "Grant" WHERE id = ${id} FOR UPDATE`;
      return this.getGrant(id);
    },
    async lockGrantAndEntitlement(id) {
      // The entitlement key never changes once a grant exists, so reading it unlocked is safe.
      const key = (await tx.grant.findUnique({ where: { id }, select: { entitlementKey: true } }))?.entitlementKey;
      if (key === undefined) return null;
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${lockKey(`entitlement:${key}`)})`;
      return this.lockGrant(id);
    },
    async createRequest(data) {
      const { snapshot, ...rest } = data;
      const row = await tx.accessRequest.create({
        data: { ...rest, policySnapshot: asJson(snapshot) },
        include: { decisions: true },
      });
      return toRequestRow(row);
    },
    async updateRequest(id, expectedVersion, patch) {
      const { snapshot, escalationLog, ...rest } = patch;
      const data = {
        ...rest,
        ...(snapshot ? { policySnapshot: asJson(snapshot) } : {}),
        ...(escalationLog ? { escalationLog: asJson(escalationLog) } : {}),
        version: { increment: 1 },
      };
      const { count } = await tx.accessRequest.updateMany({ where: { id, version: expectedVersion }, data });
      return count === 1;
    },
    async addDecision(requestId, decision) {
      await tx.decision.create({ data: { requestId, ...decision } });
    },
    async createGrant(data) {
      const row = await tx.grant.create({ data: { ...data, target: asJson(data.target) } });
      return toGrantRow(row);
    },
    async updateGrant(id, expectedVersion, patch) {
      const { receipt, ...rest } = patch;
      const { count } = await tx.grant.updateMany({
        where: { id, version: expectedVersion },
        data: { ...rest, ...(receipt ? { receipt: asJson(receipt) } : {}), version: { increment: 1 } },
      });
      return count === 1;
    },
    async countOtherActiveHolders(entitlementKey, excludingGrantId) {
      return tx.grant.count({ where: { entitlementKey, status: "active", id: { not: excludingGrantId } } });
    },
    // Buffered, and written when the work is done: the audit chain's lock is then always the last
    // lock a transaction takes, so it is held only for the moment before commit and can never
    // sit between an entitlement or row lock and a connector call.
    appendAudit: async (event) => void pendingAudit.push({ event, at: new Date() }),
  };
}

export function createPrismaStore(db: Database): Store {
  return {
    ...reader(db),
    transaction(work, options) {
      return db.$transaction(
        async (tx) => {
          const pendingAudit: PendingAudit[] = [];
          const result = await work(unitOfWork(tx, pendingAudit));
          for (const { event, at } of pendingAudit) await appendAuditEvent(tx, event, at);
          return result;
        },
        { timeout: options?.timeoutMs ?? 15_000, maxWait: 10_000 },
      );
    },
    async withExclusiveLock(name, work) {
      // A session-level try-lock needs one pinned connection: hold it in a transaction for the duration.
      return db.$transaction(
        async (tx) => {
          const [row] = await tx.$queryRaw<
            { locked: boolean }[]
          >`SELECT pg_try_advisory_xact_lock(${lockKey(`exclusive:${name}`)}) AS locked`;
          return row?.locked ? work() : undefined;
        },
        { timeout: 10 * 60_000, maxWait: 10_000 },
      );
    },
    async readSealedSecret(grantId) {
      const row = await db.grant.findUnique({ where: { id: grantId }, select: { sealedSecret: true } });
      return row?.sealedSecret ?? null;
    },
  };
}
