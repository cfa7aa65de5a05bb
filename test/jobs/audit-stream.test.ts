import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followAuditChain } from "../../src/cli/audit-follow.js";
import type { AuditExportLine } from "../../src/domain/audit-export-line.js";
import { startAuditWebhook } from "../../src/jobs/audit-webhook.js";
import type { Logger } from "../../src/services/ports.js";
import { readDeliveryCursor } from "../../src/storage/audit-delivery-cursor.js";
import { appendAuditEvents } from "../../src/storage/audit-repository.js";
import { namedLeases } from "../../src/storage/named-leases.js";
import { createDatabase, type Database } from "../../src/storage/prisma-client.js";
import { chainEverything } from "../helpers/audit-chain.js";
import { createMigratedDatabase } from "../helpers/database.js";
import { waitFor } from "../helpers/wait.js";

/**
 * The audit log streamed out for a SIEM, against a real PostgreSQL: the outbound webhook (a local
 * HTTP receiver stands in for the SIEM's collector) and `audit export --follow`.
 */

const SECRET = "a-test-secret-of-at-least-32-characters!";

let database: { url: string; drop(): Promise<void> };
let db: Database;

beforeAll(async () => {
  database = await createMigratedDatabase("audit_stream");
  db = createDatabase(database.url);
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

async function appendEvents(count: number, label: string): Promise<void> {
  const events = Array.from({ length: count }, (_, index) => ({
    event: { type: "request.submitted", actorId: "alice", requestId: `${label}-${index}`, data: { index } },
    at: new Date(),
  }));
  await db.$transaction((tx) => appendAuditEvents(tx, events));
}

const quietLogger = (): Logger & { warnings: string[] } => {
  const warnings: string[] = [];
  return { warnings, info() {}, warn: (_object, message) => void warnings.push(message), error() {} };
};

interface Delivery {
  headers: http.IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** A collector that records every POST and answers with the next status of `statuses` (then 200). */
async function startReceiver(statuses: number[]) {
  const deliveries: Delivery[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const answered = statuses.shift() ?? 200;
      deliveries.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8"), answered });
      response.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/collect?token=not-logged`,
    deliveries,
    /** seqs of the batches the receiver accepted, in the order it accepted them. */
    accepted: () =>
      deliveries
        .filter((delivery) => delivery.answered === 200)
        .flatMap((delivery) => (JSON.parse(delivery.body) as { events: { seq: string }[] }).events.map((e) => e.seq)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const chainedSeqs = async (): Promise<string[]> =>
  (await db.auditChainLink.findMany({ orderBy: { position: "asc" }, select: { eventSeq: true } })).map(
    (link) => `${link.eventSeq}`,
  );

describe("audit webhook", () => {
  it("delivers every chained event in chain order, signed, at least once, retrying a receiver that fails", async () => {
    await appendEvents(130, "first");
    await appendEvents(120, "second");
    await chainEverything(db);
    const receiver = await startReceiver([503, 500]);
    const logger = quietLogger();
    const webhook = startAuditWebhook({
      url: receiver.url,
      secret: SECRET,
      db,
      store: namedLeases(db),
      instanceId: "worker-a",
      logger,
      now: () => new Date(),
      batchSize: 100,
      idleMs: 20,
      backoffMs: { first: 10, max: 20 },
    });
    try {
      const expected = await chainedSeqs();
      await waitFor(async () => receiver.accepted().length >= expected.length, "every event to be delivered");
      // In chain order; the failed batches were sent again whole, so nothing is skipped.
      expect(receiver.accepted()).toEqual(expected);
      expect(receiver.deliveries.slice(0, 3).map((delivery) => delivery.answered)).toEqual([503, 500, 200]);
      expect(receiver.deliveries[0]!.body).toBe(receiver.deliveries[2]!.body);
      for (const { headers, body } of receiver.deliveries) {
        const timestamp = headers["x-sesame-timestamp"] as string;
        const expectedSignature = `v1=${createHmac("sha256", SECRET).update(`${timestamp}.${body}`).digest("hex")}`;
        expect(headers["x-sesame-signature"]).toBe(expectedSignature);
        expect(headers["x-sesame-event"]).toBe("audit.events");
        expect(headers["idempotency-key"]).toMatch(/^audit-\d+-\d+$/);
      }
      const first = JSON.parse(receiver.deliveries[2]!.body).events[0];
      expect(first).toMatchObject({ position: "1", type: "request.submitted", actorId: "alice", data: { index: 0 } });
      expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
      // One warning for the outage, none per retry; the receiver's query string stays out of it.
      expect(logger.warnings).toHaveLength(1);
      await waitFor(async () => webhook.lagSeconds() === 0, "the webhook to report it has caught up");
      expect(await readDeliveryCursor(db, "webhook")).toBe(BigInt(expected.length));
    } finally {
      await webhook.stop();
      await receiver.close();
    }
  });

  it("resumes after the last acknowledged batch when another process takes over", async () => {
    const before = (await chainedSeqs()).length;
    await appendEvents(7, "third");
    await chainEverything(db);
    const receiver = await startReceiver([]);
    const webhook = startAuditWebhook({
      url: receiver.url,
      secret: SECRET,
      db,
      store: namedLeases(db),
      instanceId: "worker-b",
      logger: quietLogger(),
      now: () => new Date(),
      idleMs: 20,
    });
    try {
      await waitFor(async () => receiver.accepted().length >= 7, "the new events to be delivered");
      const all = await chainedSeqs();
      expect(receiver.accepted()).toEqual(all.slice(before));
      expect(JSON.parse(receiver.deliveries[0]!.body).events[0].position).toBe(`${before + 1}`);
    } finally {
      await webhook.stop();
      await receiver.close();
    }
  });
});

describe("audit export --follow", () => {
  it("writes events as they are chained, in chain order, and stops when asked", async () => {
    const start = BigInt((await chainedSeqs()).length);
    const lines: AuditExportLine[] = [];
    const stop = new AbortController();
    const following = followAuditChain(db, async (line) => void lines.push(line), {
      after: start,
      intervalMs: 20,
      signal: stop.signal,
    });
    await appendEvents(3, "followed");
    await waitFor(async () => lines.length >= 3, "the followed events to be written");
    stop.abort();
    await following;
    expect(lines.map((line) => line.position)).toEqual([start + 1n, start + 2n, start + 3n]);
    expect(lines.map((line) => (line.data as { index: number }).index)).toEqual([0, 1, 2]);
    expect(lines.every((line) => typeof line.hash === "string")).toBe(true);
  });
});
