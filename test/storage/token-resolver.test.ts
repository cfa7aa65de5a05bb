import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken, createTokenResolver, revokeApiTokens } from "../../src/storage/api-token-repository.js";
import { syncIdentities } from "../../src/storage/identity-repository.js";
import { createDatabase, type Database } from "../../src/storage/prisma-client.js";
import { createMigratedDatabase } from "../helpers/database.js";

/** API tokens are looked up from a short cache, and their lastUsedAt is written at most once a minute. */

let database: Awaited<ReturnType<typeof createMigratedDatabase>>;
let db: Database;

beforeAll(async () => {
  database = await createMigratedDatabase("token_cache");
  db = createDatabase(database.url);
  await syncIdentities(db, [
    { id: "alice", email: "alice@example.com", admin: false, links: [] },
    { id: "bob", email: "bob@example.com", admin: false, links: [] },
  ]);
});
afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

/** A resolver on a clock the test moves, counting the token-table reads it makes. */
function resolverAt(start: number) {
  let time = start;
  let reads = 0;
  const counted = new Proxy(db, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== "apiToken") return value;
      return new Proxy(value, {
        get(table, method, tableReceiver) {
          if (method === "findUnique") reads += 1;
          return Reflect.get(table, method, tableReceiver);
        },
      });
    },
  });
  const resolve = createTokenResolver(counted, { cacheSeconds: 10, now: () => time });
  return {
    resolve,
    advance: (ms: number) => {
      time += ms;
    },
    reads: () => reads,
  };
}

const lastUsedAt = async (identityId: string) =>
  (await db.apiToken.findFirst({ where: { identityId }, select: { lastUsedAt: true } }))?.lastUsedAt ?? null;

describe("API token resolver", () => {
  it("reads a token once per cache period and refuses a revoked one once the period is over", async () => {
    const token = await createApiToken(db, "alice", "laptop");
    const clock = resolverAt(Date.parse("2026-12-01T10:00:00Z"));
    expect(await clock.resolve(token)).toBe("alice");
    expect(await clock.resolve(token)).toBe("alice");
    expect(clock.reads()).toBe(1);

    await revokeApiTokens(db, "alice");
    clock.advance(9_000);
    expect(await clock.resolve(token)).toBe("alice");
    clock.advance(1_000);
    expect(await clock.resolve(token)).toBeNull();
    expect(clock.reads()).toBe(2);
  });

  it("remembers unknown tokens too, so a flood of bad tokens does not read the table each time", async () => {
    const clock = resolverAt(Date.parse("2026-12-01T10:00:00Z"));
    expect(await clock.resolve("ses_not-a-real-token")).toBeNull();
    expect(await clock.resolve("ses_not-a-real-token")).toBeNull();
    expect(clock.reads()).toBe(1);
  });

  it("writes lastUsedAt on first use and then at most once a minute", async () => {
    const token = await createApiToken(db, "bob", "ci");
    const start = Date.parse("2026-12-01T10:00:00Z");
    const clock = resolverAt(start);
    await clock.resolve(token);
    expect(await lastUsedAt("bob")).toEqual(new Date(start));
    clock.advance(30_000);
    await clock.resolve(token);
    expect(await lastUsedAt("bob")).toEqual(new Date(start));
    clock.advance(30_000);
    await clock.resolve(token);
    expect(await lastUsedAt("bob")).toEqual(new Date(start + 60_000));
  });
});
