import { createHash } from "node:crypto";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { ChatPlatform } from "../chat/core/chat-adapter.js";
import {
  type Accepted,
  type ChatIntake,
  type IntakeAttempt,
  type IntakeEntry,
  type IntakeProcessor,
  isRetryLater,
} from "../chat/core/chat-intake.js";
import type { Logger } from "../services/ports.js";
import type { ChatIntakeRepository } from "../storage/chat-intake-repository.js";
import { isDatabaseUnavailable } from "../storage/database-errors.js";
import { batchWhileBusy } from "./batch-while-busy.js";
import { clearFinishedJobs } from "./delayed-jobs.js";

/**
 * The chat intake queue. A job carries only the stored row's id; its id is `<kind>-<sha256 of the
 * platform key>` (BullMQ refuses custom ids that are all digits or contain ":", as Teams activity
 * ids often are). The row, not the job, is the replay guard: a job id dedupes only while the job
 * exists. When Redis is down the work runs inline, a few at a time. A timer re-queues rows a dead
 * process or a lost job left behind, and forgets finished rows after the replay window.
 */

export const INTAKE_QUEUE = "chat-intake";
/** Rows are kept at least this long after they finish: longer than Slack's 300 s replay window. */
const KEEP_MS = 86_400_000;
/** A row still unfinished this long after it arrived has lost its job (or its process). */
const STALE_MS = 60_000;
/** How long one attempt holds its row; a process that died mid-attempt leaves it to recovery after this. */
const RUN_LEASE_MS = 120_000;
/** How long the ack waits for Redis to take the job before running the work inline. */
const ADD_TIMEOUT_MS = 1_000;

export const intakeJobId = (entry: Pick<IntakeEntry, "platform" | "kind" | "key">): string =>
  `${entry.kind}-${createHash("sha256").update(`${entry.platform}\n${entry.key}`).digest("hex")}`;

export interface IntakeJobData {
  intakeId: string;
}

export interface IntakeOptions {
  connection: Redis;
  prefix: string;
  repo: ChatIntakeRepository;
  logger: Logger;
  now: () => Date;
  newId: () => string;
  retry?: { attempts: number; backoffMs: number };
  /** How many run at once in this process when Redis is down. */
  inlineConcurrency?: number;
}

export interface ChatIntakeRunner extends ChatIntake {
  queue: Queue<IntakeJobData>;
  /** One attempt at a stored row (what a job does). Throws to ask for a retry. */
  run(intakeId: string, final: boolean, runner: string): Promise<void>;
  attempts: number;
  /** Re-queues unfinished rows older than a minute and purges old finished ones. */
  recover(): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createChatIntake(options: IntakeOptions): ChatIntakeRunner {
  const { repo, logger } = options;
  const retry = options.retry ?? { attempts: 4, backoffMs: 1_000 };
  const processors = new Map<ChatPlatform, IntakeProcessor>();
  const queue = new Queue<IntakeJobData>(INTAKE_QUEUE, {
    connection: options.connection,
    prefix: options.prefix,
    defaultJobOptions: {
      attempts: retry.attempts,
      backoff: { type: "exponential", delay: retry.backoffMs },
      removeOnComplete: { count: 1_000 },
      // A job that failed for good is removed, so the recovery timer can queue its row again.
      removeOnFail: true,
    },
  });
  queue.on("error", () => undefined);
  let inlineRunning = 0;
  /** Rows waiting or running inline in this process: recovery leaves them to it. */
  const inlineRows = new Set<string>();
  const inlineWaiting: (() => void)[] = [];
  const inlineLimit = options.inlineConcurrency ?? 4;

  /**
   * One attempt at a stored row by `runner` (a job's lock token, or one inline run's token). The
   * attempt holds the row with a lease it renews while it works, so no other runner takes it
   * meanwhile; an inline run takes it again for its next attempt even if giving it back failed (a
   * job's next attempt has a new token: it finds the row held and leaves it to recovery).
   */
  async function run(
    intakeId: string,
    final: boolean,
    runner: string,
    work?: (attempt: IntakeAttempt) => Promise<void>,
  ): Promise<void> {
    const row = await repo.load(intakeId);
    if (row?.status !== "received" && row?.status !== "claimed") return;
    const processor = processors.get(row.platform);
    if (!processor) throw new Error(`no ${row.platform} processor in this process`);
    const leaseUntil = () => new Date(options.now().getTime() + RUN_LEASE_MS);
    // Another runner holds it (a job that arrived after its inline run began, say): that run finishes it.
    if (!(await repo.begin(intakeId, runner, options.now(), leaseUntil()))) return;
    const heartbeat = setInterval(() => {
      repo
        .renew(intakeId, runner, leaseUntil())
        .catch((error: unknown) =>
          logger.warn({ intakeId, error: String(error) }, "could not renew a chat action's lease"),
        );
    }, RUN_LEASE_MS / 4);
    heartbeat.unref();
    let outcome: "done" | "failed" = "done";
    try {
      await (work ? work({ final }) : processor.process(row, { final }));
    } catch (error) {
      if (!final && isRetryLater(error)) {
        // Best effort: should it fail, this runner's next attempt takes the row again all the same.
        await repo.release(intakeId, runner).catch(() => undefined);
        throw error;
      }
      outcome = "failed";
      logger.error(
        {
          intakeId,
          platform: row.platform,
          kind: row.kind,
          error: error instanceof Error ? error.message : String(error),
        },
        "a chat action failed for good; telling the person",
      );
      await processor
        .tellFailed(row)
        .catch((told: unknown) => logger.error({ intakeId, error: String(told) }, "could not tell the person"));
    } finally {
      clearInterval(heartbeat);
    }
    // Outside the work's try: a failure to record the outcome must not tell the person their action failed.
    await repo
      .finish(intakeId, outcome, options.now(), runner)
      .catch((error: unknown) =>
        logger.error(
          { intakeId, outcome, error: String(error) },
          "could not record a chat action's outcome; recovery may run it again once its lease runs out",
        ),
      );
  }

  /** Redis is down: run here, a few at a time, with the same retries. */
  async function runInline(intakeId: string, work?: (attempt: IntakeAttempt) => Promise<void>): Promise<void> {
    inlineRows.add(intakeId);
    const runner = `inline-${options.newId()}`;
    try {
      if (inlineRunning >= inlineLimit) await new Promise<void>((resolve) => inlineWaiting.push(resolve));
      inlineRunning += 1;
      try {
        for (let attempt = 1; attempt <= retry.attempts; attempt += 1) {
          try {
            return await run(intakeId, attempt === retry.attempts, runner, work);
          } catch (error) {
            logger.warn({ intakeId, attempt, error: String(error) }, "inline chat action failed; retrying");
            await sleep(retry.backoffMs * 2 ** (attempt - 1));
          }
        }
      } finally {
        inlineRunning -= 1;
        inlineWaiting.shift()?.();
      }
    } finally {
      inlineRows.delete(intakeId);
    }
  }

  /** Queues stored rows in one round trip; when Redis cannot take them, their work runs here. */
  async function schedule(rows: readonly { id: string; entry: Pick<IntakeEntry, "platform" | "kind" | "key"> }[]) {
    if (rows.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      // A Redis that is not connected would hold the ack: go inline at once, and give a slow one a second.
      if (options.connection.status !== "ready") throw new Error(`Redis is ${options.connection.status}`);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ADD_TIMEOUT_MS} ms`)), ADD_TIMEOUT_MS);
      });
      const jobs = rows.map(({ id, entry }) => ({
        name: entry.kind,
        data: { intakeId: id },
        opts: { jobId: intakeJobId(entry) },
      }));
      await Promise.race([queue.addBulk(jobs), timeout]);
    } catch (error) {
      logger.warn({ actions: rows.length, error: String(error) }, "Redis unavailable: running chat actions inline");
      for (const { id } of rows)
        void runInline(id).catch((failed: unknown) =>
          logger.error({ intakeId: id, error: String(failed) }, "inline chat action failed"),
        );
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The rows whose job will not run again (see clearFinishedJobs); a row whose job still waits or
   * runs is left to it. Without Redis, or when it fails to answer, every row (its work then runs
   * inline).
   */
  async function withoutLiveJobs<Row extends { entry: Pick<IntakeEntry, "platform" | "kind" | "key"> }>(
    rows: Row[],
  ): Promise<Row[]> {
    if (options.connection.status !== "ready" || rows.length === 0) return rows;
    const ids = rows.map((row) => intakeJobId(row.entry));
    const gone = await clearFinishedJobs(queue, ids).catch(() => rows.map(() => true));
    return rows.filter((_, index) => gone[index]);
  }

  // Acks that arrive together share one INSERT (one commit) and one Redis round trip. The Redis
  // wait runs outside the batch's slot, so a slow Redis does not hold up the next INSERT. Should the
  // INSERT fail, each entry goes alone, so one bad payload fails only its own ack; a database away
  // or busy fails them all.
  const storeTogether = batchWhileBusy(
    async (entries: IntakeEntry[]): Promise<{ accepted: Accepted; scheduled: Promise<void> }[]> => {
      const rows = entries.map((entry) => ({ id: options.newId(), entry }));
      const fresh = await repo.insertMany(rows);
      const scheduled = schedule(rows.filter((row) => fresh.has(row.id)));
      return rows.map((row) =>
        fresh.has(row.id)
          ? { accepted: { id: row.id, fresh: true }, scheduled }
          : { accepted: { fresh: false }, scheduled: Promise.resolve() },
      );
    },
    { maxBatch: 100, atOnce: 2, retryAloneWhen: (error) => !isDatabaseUnavailable(error) },
  );

  async function acceptOne(entry: IntakeEntry): Promise<Accepted> {
    const outcome = await storeTogether(entry);
    await outcome.scheduled;
    return outcome.accepted;
  }

  return {
    queue,
    attempts: retry.attempts,
    run,
    register(platform, processor) {
      processors.set(platform, processor);
    },
    accept: acceptOne,
    async acceptAndRun(entry, work, { recoverable }): Promise<Accepted> {
      const id = await repo.insert(options.newId(), entry, recoverable ? "received" : "claimed");
      if (!id) return { fresh: false };
      await runInline(id, work);
      return { id, fresh: true };
    },
    runHere: (id, work) => runInline(id, work),
    async claim(entry): Promise<Accepted> {
      const id = await repo.insert(options.newId(), entry, "claimed");
      return id ? { id, fresh: true } : { fresh: false };
    },
    release: (id) => repo.remove(id),
    finish: (id) => repo.finish(id, "done", options.now()),
    async recover() {
      const now = options.now().getTime();
      const stale = await repo.unfinished(new Date(now - STALE_MS), new Date(now), 500, [...processors.keys()]);
      const rows = stale
        .filter((row) => !inlineRows.has(row.id))
        .map((row) => ({
          id: row.id,
          entry: { platform: row.platform as ChatPlatform, kind: row.kind, key: row.key },
        }));
      await schedule(await withoutLiveJobs(rows));
      await repo.purge(new Date(now - KEEP_MS));
    },
    close: () => queue.close(),
  };
}
