import type { IncidentOffer, IncidentOfferStore, OfferStatus, PagerDutyTrigger } from "../services/incident-offers.js";
import type { Database } from "./prisma-client.js";

/**
 * Incident offers kept in the InboundEvent table (no table of their own): source
 * `pagerduty:offer` (a name POST /events/:source can never take), key
 * `<incident>/<person>/<resource>` (unique: one offer per incident, person and resource), the offer
 * as payload. Statuses: offered, processing (being activated; `processedAt` is when it was taken),
 * done (activated; outcome: the request id) and failed (withdrawn; outcome: why). The event
 * re-drive only takes `received` rows, and retention deletes done and failed ones like any event.
 */
export const OFFER_SOURCE = "pagerduty:offer";

const STATUS: Record<string, OfferStatus> = {
  offered: "offered",
  processing: "activating",
  done: "activated",
  failed: "withdrawn",
};

interface OfferPayload {
  incidentId: string;
  personId: string;
  resourceId: string;
  trigger: PagerDutyTrigger;
  maxSeconds: number;
  approval: string;
}

export function createIncidentOfferStore(db: Database, newId: () => string): IncidentOfferStore {
  return {
    async offer(offer) {
      const id = newId();
      const key = `${offer.incidentId}/${offer.personId}/${offer.resourceId}`;
      const payload: OfferPayload = { ...offer };
      const inserted = await db.$queryRaw<Array<{ id: string }>>`
        INSERT INTO "InboundEvent" ("id", "source", "idempotencyKey", "payload", "status")
        VALUES (${id}, ${OFFER_SOURCE}, ${key}, ${JSON.stringify(payload)}::jsonb, 'offered')
        ON CONFLICT ("source", "idempotencyKey") DO NOTHING
        RETURNING "id"`;
      if (inserted.length > 0) return { id, fresh: true };
      // Withdrawn when the incident moved to someone else, and now back: offered again.
      const reopened = await db.$queryRaw<Array<{ id: string }>>`
        UPDATE "InboundEvent" SET "status" = 'offered', "outcome" = NULL, "processedAt" = NULL
        WHERE "source" = ${OFFER_SOURCE} AND "idempotencyKey" = ${key} AND "status" = 'failed'
          AND "outcome" LIKE '%reassigned%'
        RETURNING "id"`;
      if (reopened.length > 0) return { id: reopened[0]!.id, fresh: true };
      const existing = await db.inboundEvent.findUniqueOrThrow({
        where: { source_idempotencyKey: { source: OFFER_SOURCE, idempotencyKey: key } },
        select: { id: true },
      });
      return { id: existing.id, fresh: false };
    },
    async get(id) {
      const row = await db.inboundEvent.findFirst({ where: { id, source: OFFER_SOURCE } });
      if (!row) return null;
      const payload = row.payload as unknown as OfferPayload;
      return {
        id: row.id,
        ...payload,
        status: STATUS[row.status] ?? "withdrawn",
        outcome: row.outcome,
      } satisfies IncidentOffer;
    },
    async claim(id, personId, at, staleBefore) {
      const taken = await db.$executeRaw`
        UPDATE "InboundEvent" SET "status" = 'processing', "processedAt" = ${at}
        WHERE "id" = ${id} AND "source" = ${OFFER_SOURCE} AND "payload"->>'personId' = ${personId}
          AND ("status" = 'offered' OR ("status" = 'processing' AND "processedAt" < ${staleBefore}))`;
      return taken > 0;
    },
    async finish(id, status, outcome) {
      await db.inboundEvent.updateMany({
        where: { id, source: OFFER_SOURCE },
        data: { status: status === "activated" ? "done" : "failed", outcome, processedAt: new Date() },
      });
    },
    async release(id) {
      await db.inboundEvent.updateMany({
        where: { id, source: OFFER_SOURCE, status: "processing" },
        data: { status: "offered", processedAt: null },
      });
    },
    async withdraw(incidentId, why, keep = []) {
      const rows = await db.$queryRaw<Array<{ id: string }>>`
        UPDATE "InboundEvent" SET "status" = 'failed', "outcome" = ${why}, "processedAt" = now()
        WHERE "source" = ${OFFER_SOURCE} AND "status" IN ('offered', 'processing')
          AND "payload"->>'incidentId' = ${incidentId}
          AND NOT ("payload"->>'personId' = ANY(${keep}::text[]))
        RETURNING "id"`;
      return rows.map((row) => row.id);
    },
    async resolveReceived(incidentId) {
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
  };
}
