import { randomUUID } from "node:crypto";
import type { RequestPatch, RequestRow } from "../domain/access-request.js";
import { awaitedDecidersOf, viewersOf } from "../domain/visibility.js";
import type { RequestFilter, UnitOfWork } from "../services/ports.js";
import type { AccessRequest } from "./generated/prisma/client.js";
import { fromLinkedRequest, type LinkedRequest, toRequestRow } from "./row-mappers.js";
import { sharedRead } from "./shared-read.js";
import type { Sql, TransactionSql } from "./sql.js";
import { insertRowLater, jsonText, updateHeldRowLater, updateVersionedRow, writtenFields } from "./sql-rows.js";

/** A request is read with its decisions and the id of the grant it created, in one statement. */
const REQUEST_WITH_LINKS = `r.*,
  (SELECT g.id FROM "Grant" g WHERE g."requestId" = r.id) AS "linkedGrantId",
  COALESCE((SELECT json_agg(json_build_object('approverId', d."approverId", 'kind', d.kind, 'step', d.step,
                              'comment', d.comment, 'createdAt', d."createdAt") ORDER BY d."createdAt")
            FROM "Decision" d WHERE d."requestId" = r.id), '[]'::json) AS "linkedDecisions"`;

/** The columns the list queries filter on, derived from the request as it is saved. */
function visibilityColumns(request: Pick<RequestRow, "requesterId" | "snapshot" | "status" | "currentStep">) {
  return { viewerIds: viewersOf(request), awaitingIds: awaitedDecidersOf(request) };
}

/** `filter` as WHERE conditions and their values; the viewer columns use their GIN indexes (@>). */
function requestConditions(filter: RequestFilter): { where: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const bind = (value: unknown) => `$${values.push(value)}`;
  if (filter.viewerId) conditions.push(`r."viewerIds" @> ARRAY[${bind(filter.viewerId)}]::text[]`);
  if (filter.approverId) conditions.push(`r."awaitingIds" @> ARRAY[${bind(filter.approverId)}]::text[]`);
  if (filter.status) conditions.push(`r.status = ANY(${bind(filter.status)}::"RequestStatus"[])`);
  if (filter.requesterId) conditions.push(`r."requesterId" = ${bind(filter.requesterId)}`);
  if (filter.resourceId) conditions.push(`r."resourceId" = ${bind(filter.resourceId)}`);
  if (filter.pendingUntilBefore) conditions.push(`r."pendingUntil" <= ${bind(filter.pendingUntilBefore)}`);
  if (filter.unreviewedBreakGlass) conditions.push(`r."breakGlass" AND r."reviewedAt" IS NULL`);
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "", values };
}

export function requestReads(sql: Sql): Pick<UnitOfWork, "getRequest" | "listRequests"> {
  return {
    async getRequest(id) {
      const [row] = await sql.rows<LinkedRequest>(
        `SELECT ${REQUEST_WITH_LINKS} FROM "AccessRequest" r WHERE r.id = $1`,
        [id],
      );
      return row ? fromLinkedRequest(row) : null;
    },
    async listRequests(filter) {
      const { where, values } = requestConditions(filter);
      const rows = await sql.rows<LinkedRequest>(
        `SELECT ${REQUEST_WITH_LINKS} FROM "AccessRequest" r ${where}
         ORDER BY r."createdAt" DESC LIMIT $${values.length + 1}`,
        [...values, filter.limit ?? 100],
      );
      return rows.map(fromLinkedRequest);
    },
  };
}

/** getRequest outside a transaction, shared with the reads arriving meanwhile (see sharedRead). */
export function sharedRequestRead(sql: Sql): (id: string) => Promise<RequestRow | null> {
  return sharedRead(async (ids) => {
    const rows = await sql.rows<LinkedRequest>(
      `SELECT ${REQUEST_WITH_LINKS} FROM "AccessRequest" r WHERE r.id = ANY($1::text[])`,
      [ids],
    );
    return new Map(rows.map((row) => [row.id, fromLinkedRequest(row)]));
  });
}

/** A request's columns as a patch writes them. grantId is the grant row's link, not a column. */
function requestColumns(current: RequestRow, patch: RequestPatch) {
  const { snapshot, escalationLog, grantId: _notAColumn, ...rest } = patch;
  return {
    ...rest,
    policySnapshot: snapshot ? jsonText(snapshot) : undefined,
    escalationLog: escalationLog ? jsonText(escalationLog) : undefined,
    ...visibilityColumns({
      requesterId: current.requesterId,
      snapshot: snapshot ?? current.snapshot,
      status: patch.status ?? current.status,
      currentStep: patch.currentStep ?? current.currentStep,
    }),
  };
}

export interface RequestWrites
  extends Pick<UnitOfWork, "lockRequest" | "createRequest" | "updateRequest" | "addDecision"> {
  /** updateRequest for a request this transaction holds locked at `current.version`: sent later. */
  updateHeldRequest(current: RequestRow, patch: RequestPatch): RequestRow;
}

export function requestWrites(sql: TransactionSql): RequestWrites {
  return {
    // One round trip: the row, locked, with what a request is read with.
    async lockRequest(id) {
      const [row] = await sql.rows<LinkedRequest>(
        `SELECT ${REQUEST_WITH_LINKS} FROM "AccessRequest" r WHERE r.id = $1 FOR UPDATE OF r`,
        [id],
      );
      return row ? fromLinkedRequest(row) : null;
    },
    async createRequest(row) {
      const { snapshot, decisions: _none, grantId: _noGrantYet, escalationLog, ...rest } = row;
      insertRowLater(sql, "AccessRequest", {
        ...rest,
        policySnapshot: jsonText(snapshot),
        escalationLog: jsonText(escalationLog),
        updatedAt: new Date(),
        ...visibilityColumns(row),
      });
    },
    async updateRequest(current, patch) {
      const row = await updateVersionedRow<AccessRequest>(
        sql,
        "AccessRequest",
        current,
        requestColumns(current, patch),
      );
      if (!row) return null;
      return { ...toRequestRow(row), decisions: [...current.decisions], grantId: patch.grantId ?? current.grantId };
    },
    updateHeldRequest(current, patch) {
      updateHeldRowLater(sql, "AccessRequest", current, requestColumns(current, patch));
      const { grantId, snapshot, escalationLog, ...fields } = writtenFields(patch);
      return {
        ...current,
        ...fields,
        // Copies, as a row read back would be: later changes to the patch must not reach it.
        snapshot: structuredClone(snapshot ?? current.snapshot),
        escalationLog: structuredClone(escalationLog ?? current.escalationLog),
        version: current.version + 1,
        decisions: [...current.decisions],
        grantId: grantId ?? current.grantId,
      };
    },
    async addDecision(requestId, decision) {
      insertRowLater(sql, "Decision", { id: randomUUID(), requestId, ...decision, createdAt: new Date() });
    },
  };
}
