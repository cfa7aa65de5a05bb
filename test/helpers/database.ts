import { randomBytes } from "node:crypto";
import pg from "pg";
import { migrate } from "../../src/storage/migrator.js";

/** Base URL of the local PostgreSQL used by tests; each test file gets its own database on it. */
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export function databaseUrl(name: string): string {
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates a fresh, empty database with a unique name. */
export async function createTestDatabase(label: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `sesame_test_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${randomBytes(4).toString("hex")}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  return {
    name,
    url: databaseUrl(name),
    drop: async () => void (await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
}

/** Creates a fresh database with all migrations applied. */
export async function createMigratedDatabase(label: string) {
  const database = await createTestDatabase(label);
  await migrate(database.url);
  return database;
}

export async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** A unique Redis key prefix for one test file, so files can run in parallel on one Redis. */
export function testRedisPrefix(label: string): string {
  return `sesame-test:${label}:${randomBytes(4).toString("hex")}`;
}
