import type { Database } from "./prisma-client.js";

/** The chain position a sink has delivered up to (0 before its first delivery). */
export async function readDeliveryCursor(db: Database, sink: string): Promise<bigint> {
  const row = await db.auditDeliveryCursor.findUnique({ where: { sink } });
  return row?.position ?? 0n;
}

/** Moves a sink's cursor forward to `position`; never back, whatever a late writer says. */
export async function advanceDeliveryCursor(db: Database, sink: string, position: bigint, at: Date): Promise<void> {
  await db.$executeRaw`
    INSERT INTO "AuditDeliveryCursor" ("sink", "position", "deliveredAt") VALUES (${sink}, ${position}, ${at})
    ON CONFLICT ("sink") DO UPDATE SET "position" = EXCLUDED."position", "deliveredAt" = EXCLUDED."deliveredAt"
    WHERE "AuditDeliveryCursor"."position" < EXCLUDED."position"`;
}
