import type { ActionRunPatch, ActionRunRow, ActionRunStatus } from "../domain/actions/action-run.js";
import type { ActionRun, Prisma } from "./generated/prisma/client.js";
import type { Database } from "./prisma-client.js";

/** The single run of an approved action request (see domain/actions/action-run.ts). */

type Client = Database | Prisma.TransactionClient;

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

export function actionRunReader(client: Client) {
  return {
    async getActionRun(requestId: string): Promise<ActionRunRow | null> {
      const row = await client.actionRun.findUnique({ where: { requestId } });
      return row ? toActionRunRow(row) : null;
    },
    /** Runs claimed before `claimedBefore` that never recorded a result: the process died mid-call. */
    async listStaleRunningActions(claimedBefore: Date, limit: number): Promise<ActionRunRow[]> {
      const rows = await client.actionRun.findMany({
        where: { status: "running", claimedAt: { lte: claimedBefore } },
        orderBy: { claimedAt: "asc" },
        take: limit,
      });
      return rows.map(toActionRunRow);
    },
    async listQueuedActions(createdBefore: Date, limit: number): Promise<ActionRunRow[]> {
      const rows = await client.actionRun.findMany({
        where: { status: "queued", createdAt: { lte: createdBefore } },
        orderBy: { createdAt: "asc" },
        take: limit,
      });
      return rows.map(toActionRunRow);
    },
  };
}

export function actionRunWriter(tx: Prisma.TransactionClient) {
  return {
    async createActionRun(run: { id: string; requestId: string }): Promise<void> {
      await tx.actionRun.create({ data: { ...run, status: "queued" } });
    },
    async lockActionRun(requestId: string): Promise<ActionRunRow | null> {
      const [row] = await tx.$queryRaw<
        ActionRun[]
      >`SELECT * FROM "ActionRun" WHERE "requestId" = ${requestId} FOR UPDATE`;
      return row ? toActionRunRow(row) : null;
    },
    /** Saves a transition's patch; null when the version moved on. */
    async updateActionRun(current: ActionRunRow, patch: ActionRunPatch): Promise<ActionRunRow | null> {
      const [row] = await tx.actionRun.updateManyAndReturn({
        where: { id: current.id, version: current.version },
        data: { ...patch, version: { increment: 1 } },
      });
      return row ? toActionRunRow(row) : null;
    },
  };
}

export type ActionRunReader = ReturnType<typeof actionRunReader>;
export type ActionRunWriter = ReturnType<typeof actionRunWriter>;
