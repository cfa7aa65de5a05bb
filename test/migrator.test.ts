import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrate } from "../src/storage/migrator.js";
import { createTestDatabase } from "./helpers/database.js";

const database = await createTestDatabase("migrator");
afterAll(() => database.drop());

describe("migrator", () => {
  it("applies every migration once and records it the way prisma migrate deploy does", async () => {
    const first = await migrate(database.url);
    expect(first.applied).toContain("20261122000000_init");
    const second = await migrate(database.url);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(first.applied);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query(`SELECT * FROM "_prisma_migrations" ORDER BY migration_name`);
    await client.end();
    const sql = await readFile(
      new URL("../prisma/migrations/20261122000000_init/migration.sql", import.meta.url),
      "utf8",
    );
    expect(rows[0]).toMatchObject({
      migration_name: "20261122000000_init",
      checksum: createHash("sha256").update(sql).digest("hex"),
      applied_steps_count: 1,
      rolled_back_at: null,
    });
    expect(rows[0].finished_at).toBeInstanceOf(Date);
  });

  it("refuses UPDATE and DELETE on the audit log at the database level", async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(`INSERT INTO "AuditEvent" (type, data, "prevHash", hash) VALUES ('t', '{}', 'x', 'y')`);
      await expect(client.query(`UPDATE "AuditEvent" SET type = 'u'`)).rejects.toThrow(/append-only/);
      await expect(client.query(`DELETE FROM "AuditEvent"`)).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
  });
});
