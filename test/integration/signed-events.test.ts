import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signature } from "../../src/connectors/webhook/webhook-signature.js";
import { createEventQueue } from "../../src/jobs/event-queue.js";
import { createProducerRedis } from "../../src/jobs/queues.js";
import { processInboundEvent } from "../../src/services/inbound-events.js";
import { createInboundEventStore } from "../../src/storage/inbound-event-repository.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { waitFor } from "../helpers/wait.js";
import { auditEvents } from "./support.js";

/**
 * Generic signed events (POST /events/:source): signed as the webhook connector signs, stored
 * once per Idempotency-Key in PostgreSQL, worked in a job; open is approved by an eventAccess
 * rule, close relinquishes through the normal revoke path.
 */

const SECRET = "e".repeat(64);
const policy = `
version: 1
people:
  - { id: carol, email: carol@example.com }
  - { id: mallory, email: mallory@example.com }
  - { id: dave, email: dave@example.com, admin: true }
connectors:
  ok: { type: noop }
resources:
  incident-db: { connector: ok, target: { role: incident } }
  prod-db: { connector: ok, target: { role: prod } }
policies:
  - id: incident
    resources: [incident-db, prod-db]
    requesters: { everyone: true }
    duration: { default: 1h, max: 4h }
    reason: { required: false }
    approvers: { users: [dave] }
eventAccess:
  - source: monitoring
    resources: [incident-db]
    subjects: { users: [carol] }
    maxDuration: 2h
    reason: monitoring alert
`;

let sesame: TestSesame;
beforeAll(async () => {
  sesame = await startSesame("signed-events", {
    policy,
    identities: ["carol", "dave"],
    env: { SESAME_EVENT_SECRET_MONITORING: SECRET },
  });
});
afterAll(() => sesame?.stop());

async function send(
  body: unknown,
  options: { key?: string; secret?: string; timestamp?: number; source?: string; signed?: boolean } = {},
): Promise<{ status: number; body: any }> {
  const raw = JSON.stringify(body);
  const timestamp = options.timestamp ?? Math.floor(sesame.clock.now().getTime() / 1000);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.key !== undefined) headers["idempotency-key"] = options.key;
  if (options.signed !== false) {
    headers["x-sesame-timestamp"] = String(timestamp);
    headers["x-sesame-signature"] = signature(options.secret ?? SECRET, timestamp, raw);
  }
  const response = await fetch(`${sesame.baseUrl}/events/${options.source ?? "monitoring"}`, {
    method: "POST",
    headers,
    body: raw,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

const eventRows = () => sesame.runtime.db.inboundEvent.findMany({ orderBy: { receivedAt: "asc" } });
const requestsOf = (subject: string) => sesame.runtime.deps.store.listRequests({ requesterId: subject });

async function settled(eventId: string): Promise<{ status: string; outcome: string | null }> {
  let row: { status: string; outcome: string | null } | null = null;
  await waitFor(async () => {
    row = await sesame.runtime.db.inboundEvent.findUnique({ where: { id: eventId } });
    return row !== null && (row.status === "done" || row.status === "failed");
  }, `event ${eventId} to be processed`);
  return row!;
}

describe("signed events", () => {
  it("refuses unsigned, wrongly signed, stale and unknown-source events with 401 and stores nothing", async () => {
    const open = { action: "open", subject: "carol", resource: "incident-db" };
    expect((await send(open, { key: "a1", signed: false })).status).toBe(401);
    expect((await send(open, { key: "a2", secret: "x".repeat(64) })).status).toBe(401);
    const stale = Math.floor(sesame.clock.now().getTime() / 1000) - 301;
    expect((await send(open, { key: "a3", timestamp: stale })).status).toBe(401);
    expect((await send(open, { key: "a4", source: "opsgenie" })).status).toBe(401);
    expect(await eventRows()).toEqual([]);
    expect(await requestsOf("carol")).toEqual([]);
  });

  it("asks for an Idempotency-Key and a well-formed body before storing anything", async () => {
    expect((await send({ action: "open", subject: "carol", resource: "incident-db" })).status).toBe(400);
    const bad = await send({ action: "explode", subject: "carol", resource: "incident-db" }, { key: "b1" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("action");
    expect(await eventRows()).toEqual([]);
  });

  let grantId = "";
  it("open: the eventAccess rule approves it, the grant becomes active, and the trigger is recorded", async () => {
    const answer = await send(
      { action: "open", subject: "carol", resource: "incident-db", reason: "disk alert", ttl: "1h" },
      { key: "alert-1-open" },
    );
    expect(answer.status).toBe(202);
    expect(answer.body.duplicate).toBe(false);
    expect((await settled(answer.body.event)).status).toBe("done");
    const [request] = await requestsOf("carol");
    expect(request?.status).toBe("approved");
    expect(request?.autoApprovalReason).toBe("monitoring alert (event alert-1-open)");
    expect(request?.durationSeconds).toBe(3600);
    grantId = request!.grantId!;
    await waitFor(
      async () => (await sesame.api("carol", "GET", `/api/v1/grants/${grantId}`)).body.status === "active",
      "the grant to be active",
    );
    const view = await sesame.api("carol", "GET", `/api/v1/requests/${request!.id}`);
    expect(view.body.trigger).toEqual({
      kind: "event",
      source: "monitoring",
      eventId: answer.body.event,
      idempotencyKey: "alert-1-open",
    });
    expect((await sesame.api("carol", "GET", `/api/v1/grants/${grantId}`)).body.trigger).toEqual(view.body.trigger);
    const submitted = (await auditEvents(sesame, { requestId: request!.id })).find(
      (e) => e.type === "request.submitted",
    );
    expect(submitted?.data.trigger).toMatchObject({ kind: "event", source: "monitoring" });
  });

  it("a redelivery with the same Idempotency-Key changes nothing", async () => {
    const again = await send(
      { action: "open", subject: "carol", resource: "incident-db", reason: "disk alert", ttl: "1h" },
      { key: "alert-1-open" },
    );
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    expect(await requestsOf("carol")).toHaveLength(1);
    expect(await eventRows()).toHaveLength(1);
  });

  it("close: relinquishes the grant the source opened, through the revoke path", async () => {
    const answer = await send({ action: "close", subject: "carol", resource: "incident-db" }, { key: "alert-1-close" });
    expect(answer.status).toBe(202);
    expect((await settled(answer.body.event)).outcome).toBe(`relinquished ${grantId}`);
    await waitFor(
      async () => (await sesame.api("carol", "GET", `/api/v1/grants/${grantId}`)).body.status === "revoked",
      "the grant to be revoked",
    );
    const requested = (await auditEvents(sesame, { grantId })).find((e) => e.type === "grant.revoke_requested");
    expect(JSON.stringify(requested?.data)).toContain("closed by an event from monitoring");
  });

  it("an event no rule covers (another person, another resource, too long) is stored, refused, audited, and grants nothing", async () => {
    const cases = [
      { action: "open", subject: "mallory", resource: "incident-db" },
      { action: "open", subject: "carol", resource: "prod-db" },
      { action: "open", subject: "carol", resource: "incident-db", ttl: "3h" },
    ];
    for (const [index, body] of cases.entries()) {
      const answer = await send(body, { key: `refused-${index}` });
      expect(answer.status).toBe(202);
      const row = await settled(answer.body.event);
      expect(row.status).toBe("failed");
      expect(row.outcome).toMatch(/eventAccess|at most 2h/);
      const refused = await sesame.runtime.db.auditEvent.findMany({ where: { type: "event.access_refused" } });
      const audited = refused.find((e) => (e.data as { eventId?: string }).eventId === answer.body.event);
      expect(audited?.data).toMatchObject({
        source: "monitoring",
        idempotencyKey: `refused-${index}`,
        action: "open",
        subject: body.subject,
        resource: body.resource,
        refusal: row.outcome,
      });
    }
    expect(await requestsOf("mallory")).toEqual([]);
    expect(await requestsOf("carol")).toHaveLength(1);
  });
});

describe("without Redis", () => {
  it("an event whose job cannot be queued is processed inline, once", async () => {
    // A producer connection to a port nothing listens on: fail-fast, like the real one during an outage.
    const deadRedis = createProducerRedis("redis://127.0.0.1:1");
    deadRedis.on("error", () => undefined);
    const events = createInboundEventStore(sesame.runtime.db, sesame.runtime.deps.newId);
    const queue = createEventQueue(
      sesame.runtime.deps,
      (id) => processInboundEvent(sesame.runtime.deps, events, id),
      deadRedis,
      sesame.prefix,
    );
    try {
      const stored = await events.record("monitoring", "inline-1", {
        action: "open",
        subject: "carol",
        resource: "incident-db",
        ttl: "30m",
      });
      expect(await queue.dispatch(stored.id)).toBe("processed");
      const row = await sesame.runtime.db.inboundEvent.findUniqueOrThrow({ where: { id: stored.id } });
      expect(row.status).toBe("done");
      const opened = (await requestsOf("carol")).filter((r) =>
        JSON.stringify(r.snapshot.trigger ?? {}).includes("inline-1"),
      );
      expect(opened).toHaveLength(1);
      // Processing again (a late job, the re-drive) finds the event taken and does nothing.
      await processInboundEvent(sesame.runtime.deps, events, stored.id);
      expect(
        (await requestsOf("carol")).filter((r) => JSON.stringify(r.snapshot.trigger ?? {}).includes("inline-1")),
      ).toHaveLength(1);
    } finally {
      await queue.close().catch(() => undefined);
      deadRedis.disconnect();
    }
  });
});

describe("after a crash", () => {
  it("an event left half done is re-driven, and running it again opens no second request", async () => {
    const events = createInboundEventStore(sesame.runtime.db, sesame.runtime.deps.newId);
    const process = (id: string) => processInboundEvent(sesame.runtime.deps, events, id);
    const stored = await events.record("monitoring", "crash-1", {
      action: "open",
      subject: "carol",
      resource: "incident-db",
      ttl: "10m",
    });
    await process(stored.id);
    const opened = () =>
      requestsOf("carol").then((rows) =>
        rows.filter((r) => JSON.stringify(r.snapshot.trigger ?? {}).includes("crash-1")),
      );
    expect(await opened()).toHaveLength(1);
    // As if the process died after opening the request but before recording the outcome.
    const longAgo = new Date(sesame.clock.now().getTime() - 3_600_000);
    await sesame.runtime.db.inboundEvent.update({
      where: { id: stored.id },
      data: { status: "processing", receivedAt: longAgo },
    });
    const stale = await events.stale(sesame.clock.now(), 100);
    expect(stale).toContain(stored.id);
    await process(stored.id);
    const row = await sesame.runtime.db.inboundEvent.findUniqueOrThrow({ where: { id: stored.id } });
    expect(row.status).toBe("done");
    expect(row.outcome).toContain("already opened by this event");
    expect(await opened()).toHaveLength(1);
  });
});
