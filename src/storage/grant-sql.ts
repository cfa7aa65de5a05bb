import type { GrantPatch, GrantRow } from "../domain/grant.js";
import type { GrantFilter, UnitOfWork } from "../services/ports.js";
import type { Grant } from "./generated/prisma/client.js";
import { toGrantRow } from "./row-mappers.js";
import { sharedRead } from "./shared-read.js";
import type { Sql, TransactionSql } from "./sql.js";
import { insertRowLater, jsonText, updateHeldRowLater, updateVersionedRow, writtenFields } from "./sql-rows.js";

/** `filter` as WHERE conditions and their values. */
function grantConditions(filter: GrantFilter): { where: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const bind = (value: unknown) => `$${values.push(value)}`;
  if (filter.status) conditions.push(`"status" = ANY(${bind(filter.status)}::"GrantStatus"[])`);
  if (filter.subjectId) conditions.push(`"subjectId" = ${bind(filter.subjectId)}`);
  if (filter.resourceId) conditions.push(`"resourceId" = ${bind(filter.resourceId)}`);
  if (filter.expiresBefore) conditions.push(`"expiresAt" <= ${bind(filter.expiresBefore)}`);
  if (filter.updatedBefore) conditions.push(`"updatedAt" <= ${bind(filter.updatedBefore)}`);
  if (filter.notRevokedYet) conditions.push(`"revokedAt" IS NULL`);
  if (filter.incidentId)
    conditions.push(`"trigger"->>'kind' = 'pagerduty' AND "trigger"->>'incidentId' = ${bind(filter.incidentId)}`);
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "", values };
}

export function grantReads(sql: Sql): Pick<UnitOfWork, "getGrant" | "getGrantByRequest" | "listGrants"> {
  return {
    async getGrant(id) {
      const [row] = await sql.rows<Grant>(`SELECT * FROM "Grant" WHERE "id" = $1`, [id]);
      return row ? toGrantRow(row) : null;
    },
    async getGrantByRequest(requestId) {
      const [row] = await sql.rows<Grant>(`SELECT * FROM "Grant" WHERE "requestId" = $1`, [requestId]);
      return row ? toGrantRow(row) : null;
    },
    async listGrants(filter) {
      const { where, values } = grantConditions(filter);
      const rows = await sql.rows<Grant>(
        `SELECT * FROM "Grant" ${where} ORDER BY "createdAt" DESC LIMIT $${values.length + 1}`,
        [...values, filter.limit ?? 100],
      );
      return rows.map(toGrantRow);
    },
  };
}

/** getGrant outside a transaction, shared with the reads arriving meanwhile (see sharedRead). */
export function sharedGrantRead(sql: Sql): (id: string) => Promise<GrantRow | null> {
  return sharedRead(async (ids) => {
    const rows = await sql.rows<Grant>(`SELECT * FROM "Grant" WHERE "id" = ANY($1::text[])`, [ids]);
    return new Map(rows.map((row) => [row.id, toGrantRow(row)]));
  });
}

/** A grant's columns as a patch writes them: the receipt only when there is one. */
function grantColumns(patch: GrantPatch) {
  const { receipt, ...rest } = patch;
  return { ...rest, receipt: receipt ? jsonText(receipt) : undefined };
}

export interface GrantWrites
  extends Pick<UnitOfWork, "lockGrant" | "createGrant" | "updateGrant" | "countOtherActiveHolders"> {
  /** updateGrant for a grant this transaction holds locked at `current.version`: sent later. */
  updateHeldGrant(current: GrantRow, patch: GrantPatch): GrantRow;
}

export function grantWrites(sql: TransactionSql): GrantWrites {
  return {
    async lockGrant(id) {
      const [row] = await sql.rows<Grant>(`SELECT * FROM "Grant" WHERE "id" = $1 FOR UPDATE`, [id]);
      return row ? toGrantRow(row) : null;
    },
    // Written with the transaction's next round trip; the row is what the insert makes of it (the
    // columns it leaves out take their defaults), so nothing needs reading back.
    async createGrant(data) {
      const { trigger, target, ...rest } = data;
      const now = new Date();
      insertRowLater(sql, "Grant", {
        ...rest,
        target: jsonText(target),
        trigger: trigger ? jsonText(trigger) : undefined,
        createdAt: now,
        updatedAt: now,
      });
      return {
        ...rest,
        target: structuredClone(target),
        trigger: trigger ? structuredClone(trigger) : null,
        status: "scheduled",
        version: 1,
        attempts: 0,
        activatedAt: null,
        revokedAt: null,
        revokeReason: null,
        revokedById: null,
        receipt: null,
        hasSecret: false,
        lastError: null,
        createdAt: now,
        updatedAt: now,
      };
    },
    async updateGrant(current, patch) {
      const row = await updateVersionedRow<Grant>(sql, "Grant", current, grantColumns(patch));
      return row ? toGrantRow(row) : null;
    },
    updateHeldGrant(current, patch) {
      const updatedAt = updateHeldRowLater(sql, "Grant", current, grantColumns(patch));
      const { sealedSecret, receipt, ...fields } = writtenFields(patch);
      return {
        ...current,
        ...fields,
        // As grantColumns writes them: a receipt only when there is one, a secret when given.
        receipt: receipt ? structuredClone(receipt) : current.receipt,
        hasSecret: sealedSecret === undefined ? current.hasSecret : sealedSecret !== null,
        version: current.version + 1,
        updatedAt,
      };
    },
    async countOtherActiveHolders(entitlementKey, excludingGrantId) {
      const [row] = await sql.rows<{ holders: number }>(
        `SELECT count(*)::int AS holders FROM "Grant" WHERE "entitlementKey" = $1 AND "status" = 'active' AND "id" <> $2`,
        [entitlementKey, excludingGrantId],
      );
      return row?.holders ?? 0;
    },
  };
}
