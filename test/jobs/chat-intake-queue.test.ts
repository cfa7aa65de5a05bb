import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IntakeEntry, IntakeProcessor, StoredIntake } from "../../src/chat/core/chat-intake.js";
import { RetryLater } from "../../src/chat/core/chat-intake.js";
import { type ChatIntakeRunner, createChatIntake, intakeJobId } from "../../src/jobs/chat-intake-queue.js";
import { startIntakeWorker } from "../../src/jobs/chat-intake-worker.js";
import { createProducerRedis, waitUntilReady } from "../../src/jobs/queues.js";
import { createChatIntakeRepository } from "../../src/storage/chat-intake-repository.js";
import { createOutageLog } from "../../src/storage/outage-log.js";
import { createDatabase, type Database } from "../../src/storage/prisma-client.js";
import { createSecretBox } from "../../src/storage/secret-box.js";
import { createMigratedDatabase, TEST_REDIS_URL, testRedisPrefix } from "../helpers/database.js";
import { waitFor } from "../helpers/wait.js";

/**
 * The intake queue on the real PostgreSQL and Redis: a failure that changed nothing is retried,
 * one that stays is reported to the person once; with Redis down the work runs inline; job ids
 * are BullMQ-safe whatever the platform id looks like.
 */

let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
let db: Database;
const prefix = testRedisPrefix("chat_intake_queue");
const silent = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
} as never;
const health = createOutageLog(silent, { service: "redis", down: "down", up: "up", secrets: [] });
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  database = await createMigratedDatabase("chat_intake_queue");
  db = createDatabase(database.url, { connectTimeoutSeconds: 5, statementTimeoutSeconds: 30 });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await db?.$disconnect();
  await database?.drop();
});

const secretBox = createSecretBox(Buffer.alloc(32, 7).toString("base64"));

function intakeOn(redisUrl: string, queuePrefix = prefix, now: () => Date = () => new Date()): ChatIntakeRunner {
  const connection = createProducerRedis(redisUrl);
  connection.on("error", () => undefined);
  const intake = createChatIntake({
    connection,
    prefix: queuePrefix,
    repo: createChatIntakeRepository(db, secretBox),
    logger: silent,
    now,
    newId: randomUUID,
    retry: { attempts: 3, backoffMs: 20 },
  });
  closers.push(async () => {
    await intake.close();
    connection.disconnect();
  });
  return intake;
}

const entry = (key: string): IntakeEntry => ({
  platform: "teams",
  kind: "activity",
  key,
  payload: { text: "hello" },
  replyTo: "https://hooks.example/secret-reply",
});

function recorder(fail: (attempt: number) => Error | undefined) {
  const seen: { attempts: number; finalFlags: boolean[]; told: StoredIntake[] } = {
    attempts: 0,
    finalFlags: [],
    told: [],
  };
  const processor: IntakeProcessor = {
    async process(_stored, attempt) {
      seen.attempts += 1;
      seen.finalFlags.push(attempt.final);
      const error = fail(seen.attempts);
      if (error) throw error;
    },
    async tellFailed(stored) {
      seen.told.push(stored);
    },
  };
  return { seen, processor };
}

describe("chat intake queue", () => {
  it("derives job ids BullMQ accepts from ids that are all digits or contain colons", () => {
    for (const key of ["1234567890", "f:29:1234", "a:b"])
      expect(intakeJobId({ platform: "teams", kind: "activity", key })).toMatch(/^activity-[0-9a-f]{64}$/);
  });

  it("retries a failure that changed nothing, then tells the person once, and refuses the replayed key", async () => {
    const intake = intakeOn(TEST_REDIS_URL);
    await waitUntilReady(intake.queue.opts.connection as never, 10_000).catch(() => undefined);
    const { seen, processor } = recorder(() => new RetryLater(new Error("P2028 Unable to start a transaction")));
    intake.register("teams", processor);
    const worker = startIntakeWorker(intake, silent, {
      redisUrl: TEST_REDIS_URL,
      prefix,
      concurrency: 2,
      redisHealth: health,
    });
    closers.push(() => worker.close());
    const accepted = await intake.accept(entry("1700000000001"));
    expect(accepted.fresh).toBe(true);
    expect((await intake.accept(entry("1700000000001"))).fresh).toBe(false);
    await waitFor(async () => seen.told.length === 1, "the person to be told");
    expect(seen.finalFlags).toEqual([false, false, true]);
    expect(seen.told[0]!.replyTo).toBe("https://hooks.example/secret-reply");
    // Marked failed once the person was told, which may be just after.
    await waitFor(
      async () => (await db.chatIntake.findFirst({ where: { key: "1700000000001" } }))?.status === "failed",
      "the row to be marked failed",
    );
    const row = await db.chatIntake.findFirstOrThrow({ where: { key: "1700000000001" } });
    expect(row.status).toBe("failed");
    expect(row.attempts).toBe(3);
    expect(JSON.stringify(row)).not.toContain("secret-reply");
  });

  it("stores a burst in shared statements: each key once, duplicates in the burst and replays refused", async () => {
    // A queue of its own: the other test's worker must not take these jobs.
    const burstPrefix = `${prefix}-burst`;
    const intake = intakeOn(TEST_REDIS_URL, burstPrefix);
    await waitUntilReady(intake.queue.opts.connection as never, 10_000).catch(() => undefined);
    const { seen, processor } = recorder(() => undefined);
    intake.register("teams", processor);
    const worker = startIntakeWorker(intake, silent, {
      redisUrl: TEST_REDIS_URL,
      prefix: burstPrefix,
      concurrency: 4,
      redisHealth: health,
    });
    closers.push(() => worker.close());
    const keys = Array.from({ length: 40 }, (_, i) => `burst:${i % 30}`);
    const accepted = await Promise.all(keys.map((key) => intake.accept(entry(key))));
    expect(accepted.filter((answer) => answer.fresh)).toHaveLength(30);
    await waitFor(
      async () => (await db.chatIntake.count({ where: { key: { startsWith: "burst:" }, status: "done" } })) === 30,
      "every stored action to run",
    );
    expect(await db.chatIntake.count({ where: { key: { startsWith: "burst:" } } })).toBe(30);
    expect(seen.attempts).toBe(30);
    expect((await intake.accept(entry("burst:7"))).fresh).toBe(false);
  });

  it("runs a row once when its job and an inline run reach it together", async () => {
    const intake = intakeOn("redis://127.0.0.1:1");
    let running = 0;
    let runs = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    intake.register("teams", {
      async process() {
        runs += 1;
        running += 1;
        await gate;
        running -= 1;
      },
      async tellFailed() {},
    });
    const id = await createChatIntakeRepository(db, secretBox).insert(randomUUID(), entry("f:29:twice"));
    const first = intake.run(id!, false, "job-1");
    await waitFor(async () => running === 1, "the first run to start");
    await intake.run(id!, false, "inline-2");
    release();
    await first;
    expect(runs).toBe(1);
    expect((await db.chatIntake.findFirstOrThrow({ where: { key: "f:29:twice" } })).status).toBe("done");
  });

  it("holds a row for one runner: others wait out its lease, it takes the row again, only it records the end", async () => {
    const repo = createChatIntakeRepository(db, secretBox);
    const id = (await repo.insert(randomUUID(), entry("lease:1")))!;
    const at = (seconds: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, seconds));
    expect(await repo.begin(id, "job-a", at(0), at(120))).toBe(true);
    expect(await repo.begin(id, "inline-b", at(60), at(180))).toBe(false);
    await repo.renew(id, "job-a", at(300));
    expect(await repo.begin(id, "inline-b", at(200), at(320))).toBe(false);
    // Giving it back failed (say, the database was away): the same runner's next attempt takes it.
    expect(await repo.begin(id, "job-a", at(210), at(330))).toBe(true);
    await repo.finish(id, "done", at(220), "inline-b");
    expect((await db.chatIntake.findUniqueOrThrow({ where: { id } })).status).toBe("received");
    await repo.finish(id, "done", at(220), "job-a");
    expect((await db.chatIntake.findUniqueOrThrow({ where: { id } })).status).toBe("done");
    // A lease that ran out (its runner died) can be taken by another.
    const other = (await repo.insert(randomUUID(), entry("lease:2")))!;
    expect(await repo.begin(other, "job-a", at(0), at(120))).toBe(true);
    expect(await repo.begin(other, "inline-b", at(121), at(240))).toBe(true);
  });

  it("fails only the ack whose payload PostgreSQL refuses, not the others stored with it", async () => {
    const intake = intakeOn("redis://127.0.0.1:1");
    intake.register("teams", recorder(() => undefined).processor);
    const bad = { ...entry("poison:bad"), payload: { text: "nul \u0000 inside" } };
    const answers = await Promise.allSettled(
      [entry("poison:1"), entry("poison:2"), bad, entry("poison:3")].map((each) => intake.accept(each)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(await db.chatIntake.count({ where: { key: { startsWith: "poison:" } } })).toBe(3);
  });

  it("recovers a row whose run died after its job finished, though Redis still keeps that job", async () => {
    const recoverPrefix = `${prefix}-recover`;
    let offsetMs = 0;
    const intake = intakeOn(TEST_REDIS_URL, recoverPrefix, () => new Date(Date.now() + offsetMs));
    await waitUntilReady(intake.queue.opts.connection as never, 10_000).catch(() => undefined);
    const { seen, processor } = recorder(() => undefined);
    intake.register("teams", processor);
    const worker = startIntakeWorker(intake, silent, {
      redisUrl: TEST_REDIS_URL,
      prefix: recoverPrefix,
      concurrency: 1,
      redisHealth: health,
    });
    closers.push(() => worker.close());
    // Another run holds the row (say, inline after a slow Redis): the job finds it taken and completes.
    const id = await createChatIntakeRepository(db, secretBox).insert(randomUUID(), entry("lost:1"));
    await db.chatIntake.update({ where: { id: id! }, data: { runningUntil: new Date(Date.now() + 120_000) } });
    await intake.queue.add("activity", { intakeId: id! }, { jobId: intakeJobId(entry("lost:1")) });
    await waitFor(
      async () => (await intake.queue.getJob(intakeJobId(entry("lost:1"))))?.finishedOn !== undefined,
      "the job to find the row taken and complete",
    );
    expect(seen.attempts).toBe(0);
    // A row of a platform no process here handles is not recovery's business (nor does it crowd others out).
    const slackEntry: IntakeEntry = { ...entry("lost:slack"), platform: "slack", kind: "command" };
    await createChatIntakeRepository(db, secretBox).insert(randomUUID(), slackEntry);
    // That run's process died: once its lease ran out, recovery queues the row again and it runs.
    offsetMs = 180_000;
    await intake.recover();
    expect(await intake.queue.getJob(intakeJobId(slackEntry))).toBeUndefined();
    await waitFor(
      async () => (await db.chatIntake.findUniqueOrThrow({ where: { id: id! } })).status === "done",
      "the recovered row to run",
    );
    expect(seen.attempts).toBe(1);
  });

  it("runs the work inline when Redis is down, with the same retries", async () => {
    const intake = intakeOn("redis://127.0.0.1:1");
    const { seen, processor } = recorder((attempt) => (attempt === 1 ? new RetryLater(new Error("busy")) : undefined));
    intake.register("teams", processor);
    expect((await intake.accept(entry("f:29:inline"))).fresh).toBe(true);
    await waitFor(
      async () => (await db.chatIntake.findFirst({ where: { key: "f:29:inline" } }))?.status === "done",
      "the inline run",
    );
    expect(seen.attempts).toBe(2);
    expect(seen.told).toHaveLength(0);
  });
});
