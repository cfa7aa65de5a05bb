import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_MIGRATIONS_DIR, migrate } from "../src/storage/migrator.js";
import { createTestDatabase } from "./helpers/database.js";

/**
 * Requests stored before the list queries filtered in SQL get their viewers and awaited deciders
 * from their policy snapshot, so nobody's list loses or gains a request through the upgrade.
 */

const MIGRATION = "20261207180000_list_visibility_indexes";
const database = await createTestDatabase("list_visibility_migration");
const dir = await mkdtemp(join(tmpdir(), "sesame-migrations-"));
afterAll(async () => {
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

const snapshot = {
  steps: [
    { name: "owners", approverIds: ["bob", "carol"], required: 1 },
    { name: "sign-off", approverIds: ["dave", "bob"], required: 1 },
  ],
};

describe(`migration ${MIGRATION}`, () => {
  it("fills viewers and awaited deciders of existing requests from their snapshots", async () => {
    for (const name of await readdir(DEFAULT_MIGRATIONS_DIR)) {
      if (name < MIGRATION) await cp(join(DEFAULT_MIGRATIONS_DIR, name), join(dir, name), { recursive: true });
    }
    await migrate(database.url, dir);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const insert = (id: string, status: string, currentStep: number) =>
        client.query(
          `INSERT INTO "AccessRequest" (id, "requesterId", "resourceId", "policyId", "durationSeconds", status,
             "policySnapshot", "currentStep", "pendingUntil", "updatedAt")
           VALUES ($1, 'alice', 'db', 'p', 3600, $2, $3, $4, now(), now())`,
          [id, status, snapshot, currentStep],
        );
      await insert("at-second-step", "pending", 1);
      await insert("approved", "approved", 1);
      expect((await migrate(database.url)).applied).toContain(MIGRATION);
      const { rows } = await client.query(`SELECT id, "viewerIds", "awaitingIds" FROM "AccessRequest" ORDER BY id`);
      expect(rows).toEqual([
        { id: "approved", viewerIds: ["alice", "bob", "carol", "dave"], awaitingIds: [] },
        { id: "at-second-step", viewerIds: ["alice", "bob", "carol", "dave"], awaitingIds: ["dave", "bob"] },
      ]);
    } finally {
      await client.end();
    }
  });
});
