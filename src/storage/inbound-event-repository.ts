import type { InboundEventStore } from "../services/inbound-events.js";
import type { Prisma } from "./generated/prisma/client.js";
import type { Database } from "./prisma-client.js";

/** Inbound events in PostgreSQL: ON CONFLICT on (source, idempotencyKey) makes a redelivery a no-op. */
export function createInboundEventStore(db: Database, newId: () => string): InboundEventStore {
  return {
    async record(source, idempotencyKey, payload) {
      const id = newId();
      const json = JSON.stringify(payload);
      const inserted = await db.$queryRaw<Array<{ id: string }>>`
        INSERT INTO "InboundEvent" ("id", "source", "idempotencyKey", "payload")
        VALUES (${id}, ${source}, ${idempotencyKey}, ${json}::jsonb)
        ON CONFLICT ("source", "idempotencyKey") DO NOTHING
        RETURNING "id"`;
      if (inserted.length > 0) return { id, duplicate: false };
      const existing = await db.inboundEvent.findUniqueOrThrow({
        where: { source_idempotencyKey: { source, idempotencyKey } },
        select: { id: true },
      });
      return { id: existing.id, duplicate: true };
    },
    async claim(id) {
      const taken = await db.inboundEvent.updateMany({
        where: { id, status: "received" },
        data: { status: "processing" },
      });
      if (taken.count === 0) return null;
      const row = await db.inboundEvent.findUniqueOrThrow({ where: { id } });
      return { id: row.id, source: row.source, idempotencyKey: row.idempotencyKey, payload: row.payload };
    },
    async finish(id, status, outcome) {
      await db.inboundEvent.update({ where: { id }, data: { status, outcome, processedAt: new Date() } });
    },
    async pagerDutyResolveReceived(incidentId) {
      const count = await db.inboundEvent.count({
        where: {
          source: "pagerduty",
          AND: [
            { payload: { path: ["event", "event_type"], equals: "incident.resolved" } },
            { payload: { path: ["event", "data", "id"], equals: incidentId } },
          ],
        },
      });
      return count > 0;
    },
    async release(id) {
      await db.inboundEvent.updateMany({ where: { id, status: "processing" }, data: { status: "received" } });
    },
    async stale(before, limit) {
      // Taken for processing ten minutes or more before `before` and never finished: its process died.
      await db.inboundEvent.updateMany({
        where: { status: "processing", receivedAt: { lt: new Date(before.getTime() - 10 * 60_000) } },
        data: { status: "received" },
      });
      const rows = await db.inboundEvent.findMany({
        where: { status: "received", receivedAt: { lt: before } } satisfies Prisma.InboundEventWhereInput,
        orderBy: { receivedAt: "asc" },
        take: limit,
        select: { id: true },
      });
      return rows.map((row) => row.id);
    },
  };
}
