import type { Prisma } from "./generated/prisma/client.js";

/**
 * Deletes requests that ended before `endedBefore` with everything stored beside them (decisions,
 * the grant, chat message addresses): at most `limit`, oldest first. Only what can never change
 * again goes: requests denied, cancelled or expired without a grant, requests whose grant was
 * revoked, extension requests whose extended grant was revoked, and actions whose run ended. A grant still active, failing
 * or failed to revoke stays whatever its age, and so does break-glass access nobody has reviewed
 * yet (`sesame breakglass list` must still show it). The audit log is not touched: it keeps every
 * event of these records for good.
 */
export function recordRetention(tx: Prisma.TransactionClient) {
  return {
    async deleteEndedRecords(endedBefore: Date, limit: number): Promise<number> {
      const ended = await tx.$queryRaw<{ id: string }[]>`
        SELECT r.id FROM "AccessRequest" r
          LEFT JOIN "Grant" g ON g."requestId" = r.id
          LEFT JOIN "Grant" extended ON extended.id = r."extendsGrantId"
        WHERE r."updatedAt" < ${endedBefore}
          AND (NOT r."breakGlass" OR r."reviewedAt" IS NOT NULL)
          AND ((g.id IS NULL AND r.status IN ('denied', 'cancelled', 'expired'))
               OR (g.status = 'revoked' AND g."updatedAt" < ${endedBefore})
               OR (r."extendsGrantId" IS NOT NULL AND g.id IS NULL AND r.status = 'approved'
                   AND (extended.id IS NULL OR (extended.status = 'revoked' AND extended."updatedAt" < ${endedBefore})))
               -- An action whose single run ended (its ActionRun row goes with it, ON DELETE CASCADE).
               OR (g.id IS NULL AND r.status = 'approved' AND EXISTS (
                    SELECT 1 FROM "ActionRun" a WHERE a."requestId" = r.id
                      AND a.status IN ('succeeded', 'failed', 'unknown') AND a."updatedAt" < ${endedBefore})))
        ORDER BY r."updatedAt"
        LIMIT ${limit}
        FOR UPDATE OF r SKIP LOCKED`;
      if (ended.length === 0) return 0;
      const ids = ended.map((row) => row.id);
      // The grant first: it refers to its request. Decisions go with the request (ON DELETE CASCADE).
      await tx.$executeRaw`
        DELETE FROM "ChatGrantMessage" WHERE "grantId" IN (SELECT id FROM "Grant" WHERE "requestId" = ANY(${ids}::text[]))`;
      await tx.$executeRaw`DELETE FROM "Grant" WHERE "requestId" = ANY(${ids}::text[])`;
      await tx.$executeRaw`DELETE FROM "ChatMessage" WHERE "requestId" = ANY(${ids}::text[])`;
      await tx.$executeRaw`DELETE FROM "AccessRequest" WHERE id = ANY(${ids}::text[])`;
      return ids.length;
    },

    /** Inbound events worked (done or failed) before `before`: a redelivery that late is not expected. */
    async deleteFinishedInboundEvents(before: Date, limit: number): Promise<number> {
      return tx.$executeRaw`
        DELETE FROM "InboundEvent" WHERE id IN (
          SELECT id FROM "InboundEvent" WHERE status IN ('done', 'failed') AND "receivedAt" < ${before}
          ORDER BY "receivedAt" LIMIT ${limit})`;
    },

    /** Claims of chat messages sent before `before`: a retried job never comes back that late. */
    async deleteChatDeliveryClaims(before: Date, limit: number): Promise<number> {
      return tx.$executeRaw`
        DELETE FROM "ChatDeliveryClaim" WHERE key IN (
          SELECT key FROM "ChatDeliveryClaim" WHERE "createdAt" < ${before} ORDER BY "createdAt" LIMIT ${limit})`;
    },
  };
}
