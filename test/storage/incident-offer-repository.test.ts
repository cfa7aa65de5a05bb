import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NewOffer } from "../../src/services/incident-offers.js";
import { createIncidentOfferStore } from "../../src/storage/incident-offer-repository.js";
import { createDatabase, type Database } from "../../src/storage/prisma-client.js";
import { createMigratedDatabase } from "../helpers/database.js";

/** Incident offers on the real PostgreSQL: bound to one person, claimed once, withdrawn by incident. */

let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
let db: Database;
beforeAll(async () => {
  database = await createMigratedDatabase("incident_offers");
  db = createDatabase(database.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

const offer = (incidentId: string, personId: string): NewOffer => ({
  incidentId,
  personId,
  resourceId: "incident-db",
  trigger: { kind: "pagerduty", incidentId, number: 7, title: "Disk full", url: null },
  maxSeconds: 3600,
  approval: "assignee",
});

describe("incident offer store", () => {
  it("offers once per incident, person and resource", async () => {
    const store = createIncidentOfferStore(db, randomUUID);
    const first = await store.offer(offer("PI1", "carol"));
    expect(first.fresh).toBe(true);
    expect(await store.offer(offer("PI1", "carol"))).toEqual({ id: first.id, fresh: false });
    expect(await store.get(first.id)).toMatchObject({ personId: "carol", status: "offered", maxSeconds: 3600 });
  });

  it("only its own person claims it, once; an activation that died long ago may be taken again", async () => {
    const store = createIncidentOfferStore(db, randomUUID);
    const { id } = await store.offer(offer("PI2", "carol"));
    const at = new Date("2026-12-07T10:00:00Z");
    const minuteAgo = new Date("2026-12-07T09:59:00Z");
    expect(await store.claim(id, "mallory", at, minuteAgo)).toBe(false);
    expect(await store.claim(id, "carol", at, minuteAgo)).toBe(true);
    expect(await store.claim(id, "carol", at, minuteAgo)).toBe(false);
    expect((await store.get(id))?.status).toBe("activating");
    // Taken before `staleBefore`: its process is taken to have died.
    const later = new Date("2026-12-07T10:05:00Z");
    expect(await store.claim(id, "carol", later, new Date("2026-12-07T10:04:00Z"))).toBe(true);
    await store.finish(id, "activated", "request-1");
    expect(await store.get(id)).toMatchObject({ status: "activated", outcome: "request-1" });
    expect(await store.claim(id, "carol", later, later)).toBe(false);
  });

  it("withdraws an incident's open offers, keeping those of people still assigned; a reassignment back offers again", async () => {
    const store = createIncidentOfferStore(db, randomUUID);
    const carol = await store.offer(offer("PI3", "carol"));
    const erin = await store.offer(offer("PI3", "erin"));
    expect(await store.withdraw("PI3", "incident #7 was reassigned", ["erin"])).toEqual([carol.id]);
    expect(await store.get(carol.id)).toMatchObject({ status: "withdrawn", outcome: "incident #7 was reassigned" });
    expect((await store.get(erin.id))?.status).toBe("offered");
    expect(await store.offer(offer("PI3", "carol"))).toEqual({ id: carol.id, fresh: true });
    expect((await store.withdraw("PI3", "incident #7 was resolved")).sort()).toEqual([carol.id, erin.id].sort());
    expect(await store.offer(offer("PI3", "carol"))).toEqual({ id: carol.id, fresh: false });
  });

  it("is invisible to the inbound event re-drive and to another source's lookups", async () => {
    const store = createIncidentOfferStore(db, randomUUID);
    await store.offer(offer("PI4", "carol"));
    expect(await db.inboundEvent.count({ where: { status: "received" } })).toBe(0);
    expect(await store.get(randomUUID())).toBeNull();
  });
});
