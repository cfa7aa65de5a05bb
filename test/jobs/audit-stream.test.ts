import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { followAuditChain } from "../../src/cli/audit-follow.js";
import type { AuditExportLine } from "../../src/domain/audit-export-line.js";
import { deliveryCursorKey, startAuditWebhook } from "../../src/jobs/audit-webhook.js";
import type { Logger } from "../../src/services/ports.js";
import { readDeliveryCursor } from "../../src/storage/audit-delivery-cursor.js";
import { appendAuditEvents } from "../../src/storage/audit-repository.js";
import { namedLeases } from "../../src/storage/named-leases.js";
import { createDatabase, type Database, sqlPoolOf } from "../../src/storage/prisma-client.js";
import { chainEverything } from "../helpers/audit-chain.js";
import { createMigratedDatabase } from "../helpers/database.js";
import { startTcpProxy } from "../helpers/tcp-proxy.js";
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
  await appendAuditEvents(sqlPoolOf(db), events);
}

const quietLogger = (): Logger & { warnings: string[]; logged: unknown[] } => {
  const warnings: string[] = [];
  const logged: unknown[] = [];
  return {
    warnings,
    logged,
    info: (object) => void logged.push(object),
    warn: (object, message) => {
      logged.push(object);
      warnings.push(message);
    },
    error: (object) => void logged.push(object),
  };
};

interface Delivery {
  headers: http.IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** A collector that records every POST and answers with the next status of `statuses` (then 200); a 3xx points at /moved. */
async function startReceiver(statuses: number[]) {
  const deliveries: Delivery[] = [];
  const server = http.createServer((request, response) => {
    if (request.url === "/moved") {
      // What a followed redirect would reach (as a GET): it must never count as delivered.
      response.writeHead(200).end();
      return;
    }
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const answered = statuses.shift() ?? 200;
      deliveries.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8"), answered });
      response.writeHead(answered, answered >= 300 && answered < 400 ? { Location: "/moved" } : {}).end();
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
  // The receiver of the first delivery, kept for the process that takes over (the position is per receiver).
  let firstReceiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  afterAll(async () => firstReceiver?.close());

  it("delivers every chained event in chain order, signed, at least once, retrying a receiver that fails", async () => {
    await appendEvents(130, "first");
    await appendEvents(120, "second");
    await chainEverything(db);
    const receiver = await startReceiver([503, 302, 500]);
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
      // A redirect is a failure too: followed, the POST would become a GET answered 200.
      expect(receiver.deliveries.slice(0, 4).map((delivery) => delivery.answered)).toEqual([503, 302, 500, 200]);
      expect(receiver.deliveries[0]!.body).toBe(receiver.deliveries[3]!.body);
      for (const { headers, body } of receiver.deliveries) {
        const timestamp = headers["x-sesame-timestamp"] as string;
        const expectedSignature = `v1=${createHmac("sha256", SECRET).update(`${timestamp}.${body}`).digest("hex")}`;
        expect(headers["x-sesame-signature"]).toBe(expectedSignature);
        expect(headers["x-sesame-event"]).toBe("audit.events");
        expect(headers["idempotency-key"]).toMatch(/^audit-\d+-\d+$/);
      }
      const first = JSON.parse(receiver.deliveries[3]!.body).events[0];
      expect(first).toMatchObject({ position: "1", type: "request.submitted", actorId: "alice", data: { index: 0 } });
      expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
      // One warning for the outage, none per retry; the receiver's query string stays out of it.
      expect(logger.warnings).toHaveLength(1);
      expect(JSON.stringify(logger.logged)).not.toContain("not-logged");
      expect(JSON.stringify(logger.logged)).toContain("HTTP 503");
      await waitFor(async () => webhook.lagSeconds() === 0, "the webhook to report it has caught up");
      expect(await readDeliveryCursor(db, deliveryCursorKey(receiver.url))).toBe(BigInt(expected.length));
    } finally {
      await webhook.stop();
      firstReceiver = receiver;
    }
  });

  it("resumes after the last acknowledged batch when another process takes over", async () => {
    const before = (await chainedSeqs()).length;
    await appendEvents(7, "third");
    await chainEverything(db);
    const receiver = firstReceiver!;
    receiver.deliveries.length = 0;
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
    }
  });

  it("keeps one position per receiver: a rotated query token keeps it, another path starts over", () => {
    const key = deliveryCursorKey("https://siem.example/collect?token=a");
    expect(deliveryCursorKey("https://siem.example/collect?token=b")).toBe(key);
    expect(deliveryCursorKey("https://siem.example/other")).not.toBe(key);
    expect(deliveryCursorKey("https://other.example/collect")).not.toBe(key);
  });

  it("logs why a receiver cannot be reached without quoting its URL", async () => {
    const closed = await startReceiver([]);
    const url = closed.url.replace("not-logged", "secret-token");
    await closed.close();
    const logger = quietLogger();
    await appendEvents(1, "unreachable");
    await chainEverything(db);
    const webhook = startAuditWebhook({
      url,
      secret: SECRET,
      db,
      store: namedLeases(db),
      instanceId: "worker-c",
      logger,
      now: () => new Date(),
      idleMs: 20,
      backoffMs: { first: 10, max: 20 },
    });
    try {
      await waitFor(async () => logger.warnings.length > 0, "the outage to be logged");
      expect(JSON.stringify(logger.logged)).toContain("ECONNREFUSED");
      expect(JSON.stringify(logger.logged)).not.toContain("secret-token");
    } finally {
      await webhook.stop();
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

  it("waits out its database going away and goes on from the same position", async () => {
    const postgres = new URL(database.url);
    const proxy = await startTcpProxy({ host: postgres.hostname, port: Number(postgres.port || 5432) });
    const proxied = createDatabase(proxy.via(database.url));
    const start = BigInt((await chainedSeqs()).length);
    const lines: AuditExportLine[] = [];
    const outages: string[] = [];
    const stop = new AbortController();
    try {
      await proxy.cut();
      const following = followAuditChain(proxied, async (line) => void lines.push(line), {
        after: start,
        intervalMs: 20,
        signal: stop.signal,
        onOutage: (state) => void outages.push(state),
      });
      await appendEvents(2, "after-outage");
      await waitFor(async () => outages.length === 1, "the outage to be reported");
      await proxy.restore();
      await waitFor(async () => lines.length >= 2, "the events to be written once the database is back");
      stop.abort();
      await following;
      expect(outages).toEqual(["down", "up"]);
      expect(lines.map((line) => line.position)).toEqual([start + 1n, start + 2n]);
    } finally {
      stop.abort();
      await proxied.$disconnect();
      await proxy.cut();
    }
  });
});
