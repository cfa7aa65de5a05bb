import type { Sql } from "./sql.js";

/**
 * Deletes requests that ended before `endedBefore` with everything stored beside them (decisions,
 * the grant, chat message addresses): at most `limit`, oldest first. Only what can never change
 * again goes: requests denied, cancelled or expired without a grant, requests whose grant was
 * revoked, extension requests whose extended grant was revoked, and actions whose run ended. A grant still active, failing
 * or failed to revoke stays whatever its age, and so does break-glass access nobody has reviewed
 * yet (`sesame breakglass list` must still show it). The audit log is not touched: it keeps every
 * event of these records for good.
 */
export function recordRetention(sql: Sql) {
  return {
    async deleteEndedRecords(endedBefore: Date, limit: number): Promise<number> {
      const ended = await sql.rows<{ id: string }>(
        `
        SELECT r.id FROM "AccessRequest" r
          LEFT JOIN "Grant" g ON g."requestId" = r.id
          LEFT JOIN "Grant" extended ON extended.id = r."extendsGrantId"
        WHERE r."updatedAt" < $1
          AND (NOT r."breakGlass" OR r."reviewedAt" IS NOT NULL)
          AND ((g.id IS NULL AND r.status IN ('denied', 'cancelled', 'expired'))
               OR (g.status = 'revoked' AND g."updatedAt" < $1)
               OR (r."extendsGrantId" IS NOT NULL AND g.id IS NULL AND r.status = 'approved'
                   AND (extended.id IS NULL OR (extended.status = 'revoked' AND extended."updatedAt" < $1)))
               -- An action whose single run ended (its ActionRun row goes with it, ON DELETE CASCADE).
               OR (g.id IS NULL AND r.status = 'approved' AND EXISTS (
                    SELECT 1 FROM "ActionRun" a WHERE a."requestId" = r.id
                      AND a.status IN ('succeeded', 'failed', 'unknown') AND a."updatedAt" < $1)))
        ORDER BY r."updatedAt"
        LIMIT $2
        FOR UPDATE OF r SKIP LOCKED`,
        [endedBefore, limit],
      );
      if (ended.length === 0) return 0;
      const ids = ended.map((row) => row.id);
      // The grant first: it refers to its request. Decisions go with the request (ON DELETE CASCADE).
      await sql.run(
        `
        DELETE FROM "ChatGrantMessage" WHERE "grantId" IN (SELECT id FROM "Grant" WHERE "requestId" = ANY($1::text[]))`,
        [ids],
      );
      await sql.run(`DELETE FROM "Grant" WHERE "requestId" = ANY($1::text[])`, [ids]);
      await sql.run(`DELETE FROM "ChatMessage" WHERE "requestId" = ANY($1::text[])`, [ids]);
      await sql.run(`DELETE FROM "AccessRequest" WHERE id = ANY($1::text[])`, [ids]);
      return ids.length;
    },

    /** Inbound events worked (done or failed) before `before`: a redelivery that late is not expected. */
    async deleteFinishedInboundEvents(before: Date, limit: number): Promise<number> {
      return sql.run(
        `
        DELETE FROM "InboundEvent" WHERE id IN (
          SELECT id FROM "InboundEvent" WHERE status IN ('done', 'failed') AND "receivedAt" < $1
          ORDER BY "receivedAt" LIMIT $2)`,
        [before, limit],
      );
    },

    /** Claims of chat messages sent before `before`: a retried job never comes back that late. */
    async deleteChatDeliveryClaims(before: Date, limit: number): Promise<number> {
      return sql.run(
        `
        DELETE FROM "ChatDeliveryClaim" WHERE key IN (
          SELECT key FROM "ChatDeliveryClaim" WHERE "createdAt" < $1 ORDER BY "createdAt" LIMIT $2)`,
        [before, limit],
      );
    },
  };
}
