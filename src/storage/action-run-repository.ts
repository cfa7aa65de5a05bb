import type { ActionRunPatch, ActionRunRow, ActionRunStatus } from "../domain/actions/action-run.js";
import type { ActionRunReads, ActionRunWrites } from "../services/ports.js";
import type { ActionRun } from "./generated/prisma/client.js";
import type { Sql } from "./sql.js";
import { insertRow, updateVersionedRow } from "./sql-rows.js";

/** The single run of an approved action request (see domain/actions/action-run.ts). */

function toActionRunRow(row: ActionRun): ActionRunRow {
  return {
    id: row.id,
    requestId: row.requestId,
    status: row.status as ActionRunStatus,
    version: row.version,
    claimedAt: row.claimedAt,
    finishedAt: row.finishedAt,
    sealedResult: row.sealedResult,
    resultSha256: row.resultSha256,
    createdAt: row.createdAt,
  };
}

export function actionRunReader(sql: Sql): ActionRunReads {
  return {
    async getActionRun(requestId) {
      const [row] = await sql.rows<ActionRun>(`SELECT * FROM "ActionRun" WHERE "requestId" = $1`, [requestId]);
      return row ? toActionRunRow(row) : null;
    },
    /** Runs claimed before `claimedBefore` that never recorded a result: the process died mid-call. */
    async listStaleRunningActions(claimedBefore, limit) {
      const rows = await sql.rows<ActionRun>(
        `SELECT * FROM "ActionRun" WHERE "status" = 'running' AND "claimedAt" <= $1 ORDER BY "claimedAt" LIMIT $2`,
        [claimedBefore, limit],
      );
      return rows.map(toActionRunRow);
    },
    async listQueuedActions(createdBefore, limit) {
      const rows = await sql.rows<ActionRun>(
        `SELECT * FROM "ActionRun" WHERE "status" = 'queued' AND "createdAt" <= $1 ORDER BY "createdAt" LIMIT $2`,
        [createdBefore, limit],
      );
      return rows.map(toActionRunRow);
    },
  };
}

export function actionRunWriter(sql: Sql): ActionRunWrites {
  return {
    async createActionRun(run) {
      const now = new Date();
      await insertRow(sql, "ActionRun", { ...run, status: "queued", createdAt: now, updatedAt: now });
    },
    async lockActionRun(requestId) {
      const [row] = await sql.rows<ActionRun>(`SELECT * FROM "ActionRun" WHERE "requestId" = $1 FOR UPDATE`, [
        requestId,
      ]);
      return row ? toActionRunRow(row) : null;
    },
    /** Saves a transition's patch; null when the version moved on. */
    async updateActionRun(current: ActionRunRow, patch: ActionRunPatch) {
      const row = await updateVersionedRow<ActionRun>(sql, "ActionRun", current, patch);
      return row ? toActionRunRow(row) : null;
    },
  };
}
