import type { ChatPlatform } from "../chat/core/chat-adapter.js";
import type { IntakeEntry, StoredIntake } from "../chat/core/chat-intake.js";
import type { SecretBox } from "../services/ports.js";
import { Prisma } from "./generated/prisma/client.js";
import type { Database } from "./prisma-client.js";

/**
 * The ChatIntake table: one row per verified chat action, unique on (platform, key). Inserting is
 * the replay check: a second insert of the same key fails on the constraint and stores nothing.
 */

export interface ChatIntakeRepository {
  /** The new row's id, or undefined when the key is taken. */
  insert(id: string, entry: IntakeEntry, status?: "received" | "claimed"): Promise<string | undefined>;
  /** Several rows in one statement (one commit); the ids of those whose key was free. */
  insertMany(
    rows: readonly { id: string; entry: IntakeEntry }[],
    status?: "received" | "claimed",
  ): Promise<Set<string>>;
  load(id: string): Promise<(StoredIntake & { status: string }) | undefined>;
  /**
   * Takes the row for one attempt until `until` and counts it; false when the row is gone,
   * finished, or another run holds it (a queued job and an inline run must never both run it).
   */
  begin(id: string, runner: string, now: Date, until: Date): Promise<boolean>;
  /** Extends `runner`'s hold while it works. */
  renew(id: string, runner: string, until: Date): Promise<void>;
  /** Gives `runner`'s hold back after an attempt that will be retried. */
  release(id: string, runner: string): Promise<void>;
  /** Records the outcome; with `runner`, only while that runner holds the row (a late run never overwrites its successor's). */
  finish(id: string, status: "done" | "failed", at: Date, runner?: string): Promise<void>;
  remove(id: string): Promise<void>;
  /**
   * Rows of `platforms` received before `before`, not finished and not held at `now`: work a dead
   * process or a lost job left behind (rows of a platform nobody handles here never crowd them out).
   */
  unfinished(
    before: Date,
    now: Date,
    limit: number,
    platforms: readonly string[],
  ): Promise<{ id: string; platform: string; kind: string; key: string }[]>;
  /** Forgets finished rows older than `before` (after the replay window). */
  purge(before: Date): Promise<number>;
}

export function createChatIntakeRepository(db: Database, secrets: SecretBox): ChatIntakeRepository {
  const insertMany: ChatIntakeRepository["insertMany"] = async (rows, status = "received") => {
    if (rows.length === 0) return new Set();
    // One statement, no exception on a replay: ON CONFLICT leaves the first row (also within the batch).
    const values = rows.map(({ id, entry }) => {
      const sealedReply = entry.replyTo ? secrets.seal({ replyTo: entry.replyTo }) : null;
      return Prisma.sql`(${id}, ${entry.platform}, ${entry.kind}, ${entry.key}, ${JSON.stringify(entry.payload)}::jsonb, ${sealedReply}, ${status})`;
    });
    const inserted = await db.$queryRaw<{ id: string }[]>`
      INSERT INTO "ChatIntake" ("id", "platform", "kind", "key", "payload", "sealedReply", "status")
      VALUES ${Prisma.join(values)}
      ON CONFLICT ("platform", "key") DO NOTHING
      RETURNING "id"`;
    return new Set(inserted.map((row) => row.id));
  };
  return {
    async insert(id, entry, status = "received") {
      return (await insertMany([{ id, entry }], status)).has(id) ? id : undefined;
    },
    insertMany,
    async load(id) {
      const row = await db.chatIntake.findUnique({ where: { id } });
      if (!row) return undefined;
      const replyTo = row.sealedReply ? secrets.open(row.sealedReply).replyTo : undefined;
      return {
        id: row.id,
        platform: row.platform as ChatPlatform,
        kind: row.kind,
        key: row.key,
        payload: row.payload as Record<string, unknown>,
        status: row.status,
        ...(replyTo ? { replyTo } : {}),
      };
    },
    async begin(id, runner, now, until) {
      const { count } = await db.chatIntake.updateMany({
        where: {
          id,
          status: { in: ["received", "claimed"] },
          OR: [{ runningUntil: null }, { runningUntil: { lt: now } }, { runningBy: runner }],
        },
        data: { attempts: { increment: 1 }, runningUntil: until, runningBy: runner },
      });
      return count === 1;
    },
    async renew(id, runner, until) {
      await db.chatIntake.updateMany({ where: { id, runningBy: runner }, data: { runningUntil: until } });
    },
    async release(id, runner) {
      await db.chatIntake.updateMany({
        where: { id, runningBy: runner },
        data: { runningUntil: null, runningBy: null },
      });
    },
    async finish(id, status, at, runner) {
      await db.chatIntake.updateMany({
        where: { id, status: { in: ["received", "claimed"] }, ...(runner ? { runningBy: runner } : {}) },
        data: { status, finishedAt: at, runningUntil: null, runningBy: null },
      });
    },
    async remove(id) {
      await db.chatIntake.deleteMany({ where: { id } });
    },
    async unfinished(before, now, limit, platforms) {
      return db.chatIntake.findMany({
        where: {
          status: "received",
          platform: { in: [...platforms] },
          receivedAt: { lt: before },
          OR: [{ runningUntil: null }, { runningUntil: { lt: now } }],
        },
        select: { id: true, platform: true, kind: true, key: true },
        orderBy: { receivedAt: "asc" },
        take: limit,
      });
    },
    async purge(before) {
      const { count } = await db.chatIntake.deleteMany({
        where: {
          OR: [
            { status: { in: ["done", "failed"] }, finishedAt: { lt: before } },
            // A form claimed by a process that died before answering: the person saw an error.
            { status: "claimed", receivedAt: { lt: before } },
          ],
        },
      });
      return count;
    },
  };
}
