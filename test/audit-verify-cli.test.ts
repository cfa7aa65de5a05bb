import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runCli } from "../src/cli/main.js";
import { type ChainedAuditRow, verifyAuditChain } from "../src/domain/audit-chain.js";
import type { AuditInput } from "../src/services/ports.js";
import { appendAuditEvent } from "../src/storage/audit-repository.js";
import { createDatabase } from "../src/storage/prisma-client.js";
import { createMigratedDatabase } from "./helpers/database.js";

/**
 * `sesame audit verify` and `sesame audit export` against a real PostgreSQL. Tampering is done the
 * way a superuser attacker would: disable the append-only triggers, then edit the table directly.
 */

const EVENTS: AuditInput[] = [
  {
    type: "request.submitted",
    actorId: "alice",
    requestId: "req-1",
    data: { reason: "incident 42", durationSeconds: 3600 },
  },
  { type: "request.approved", actorId: "bob", requestId: "req-1", data: { step: 0, comment: "ok" } },
  {
    type: "grant.activated",
    requestId: "req-1",
    grantId: "grant-1",
    data: { connector: "postgres", target: { database: "app", role: "readonly" } },
  },
  { type: "grant.extended", actorId: "bob", grantId: "grant-1", data: { expiresAt: "2026-03-01T15:00:00.000Z" } },
  { type: "grant.revoked", grantId: "grant-1", data: { cause: "expired" } },
];

const dropAfterwards: { drop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const database of dropAfterwards) await database.drop();
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  process.exitCode = undefined;
});

/** A migrated database holding EVENTS, with one sequence gap from a rolled-back append. Returns the seqs in order. */
async function seededDatabase(label: string): Promise<{ url: string; seqs: bigint[] }> {
  const database = await createMigratedDatabase(`audit_cli_${label}`);
  dropAfterwards.push(database);
  const db = createDatabase(database.url);
  try {
    for (const [index, event] of EVENTS.entries()) {
      await db.$transaction((tx) => appendAuditEvent(tx, event));
      if (index === 1) {
        const rolledBack = db.$transaction(async (tx) => {
          await appendAuditEvent(tx, { type: "request.submitted", actorId: "mallory" });
          throw new Error("rolled back on purpose");
        });
        await expect(rolledBack).rejects.toThrow("rolled back on purpose");
      }
    }
  } finally {
    await db.$disconnect();
  }
  const { rows } = await sql<{ seq: string }>(database.url, `SELECT seq FROM "AuditEvent" ORDER BY seq`);
  return { url: database.url, seqs: rows.map((row) => BigInt(row.seq)) };
}

async function sql<Row extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<Row>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query<Row>(text, params);
  } finally {
    await client.end();
  }
}

/** What an attacker with superuser rights does: switch off the append-only triggers, then tamper. */
async function tamper(url: string, statements: [string, unknown[]?][]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`ALTER TABLE "AuditEvent" DISABLE TRIGGER USER`);
    for (const [text, params] of statements) await client.query(text, params ?? []);
  } finally {
    await client.end();
  }
}

/** Runs the CLI in-process with DATABASE_URL set (or unset), capturing stdout and stderr. */
async function sesame(
  args: string[],
  databaseUrl: string | undefined,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const capture = (sink: string[]) =>
    ((chunk: string | Uint8Array) => {
      sink.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
  vi.stubEnv("DATABASE_URL", databaseUrl);
  process.exitCode = undefined;
  vi.spyOn(process.stdout, "write").mockImplementation(capture(stdout));
  vi.spyOn(process.stderr, "write").mockImplementation(capture(stderr));
  try {
    const code = await runCli(args);
    return { code, stdout: stdout.join(""), stderr: stderr.join("") };
  } finally {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  }
}

describe("sesame audit verify on an untouched log", () => {
  let pristine: { url: string; seqs: bigint[] };
  beforeAll(async () => {
    pristine = await seededDatabase("pristine");
  });

  it("reports the chain intact, across the gap a rolled-back append left in seq", async () => {
    expect(pristine.seqs).toHaveLength(EVENTS.length);
    expect(pristine.seqs[2]! - pristine.seqs[1]!).toBe(2n);
    const { rows } = await sql<{ hash: string }>(
      pristine.url,
      `SELECT hash FROM "AuditEvent" ORDER BY seq DESC LIMIT 1`,
    );

    const result = await sesame(["audit", "verify"], pristine.url);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Audit chain intact: ${EVENTS.length} events, last hash ${rows[0]!.hash}.`);
  });

  it("the database itself refuses UPDATE, DELETE and TRUNCATE while the triggers are on", async () => {
    const target = pristine.seqs[2]!.toString();
    await expect(
      sql(pristine.url, `UPDATE "AuditEvent" SET data = '{"reason":"forged"}' WHERE seq = $1`, [target]),
    ).rejects.toThrow(/append-only/);
    await expect(sql(pristine.url, `DELETE FROM "AuditEvent" WHERE seq = $1`, [target])).rejects.toThrow(/append-only/);
    await expect(sql(pristine.url, `TRUNCATE "AuditEvent"`)).rejects.toThrow(/append-only/);

    const { rows } = await sql(pristine.url, `SELECT count(*)::int AS n FROM "AuditEvent"`);
    expect(rows[0]!.n).toBe(EVENTS.length);
    expect((await sesame(["audit", "verify"], pristine.url)).code).toBe(0);
  });

  it("fails with one clear message when DATABASE_URL is not set", async () => {
    const result = await sesame(["audit", "verify"], undefined);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("DATABASE_URL: is required but not set");
  });

  describe("sesame audit export", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "sesame-audit-export-"));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it("--format jsonl --output writes one JSON object per line, seq as a string, and the export re-verifies", async () => {
      const file = join(dir, "audit.jsonl");
      const result = await sesame(["audit", "export", "--format", "jsonl", "--output", file], pristine.url);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe("");

      const text = await readFile(file, "utf8");
      expect(text.endsWith("\n")).toBe(true);
      const lines = text.trimEnd().split("\n");
      expect(lines).toHaveLength(EVENTS.length);
      const objects = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(objects.map((o) => o.seq)).toEqual(pristine.seqs.map(String));
      expect(objects.map((o) => o.type)).toEqual(EVENTS.map((e) => e.type));
      expect(objects[2]).toMatchObject({
        requestId: "req-1",
        grantId: "grant-1",
        actorId: null,
        data: EVENTS[2]!.data,
      });
      for (const o of objects) {
        expect(o.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(o.hash).toMatch(/^[0-9a-f]{64}$/);
      }

      // The exported file carries everything needed to check the chain offline.
      const rows = objects.map(
        (o) => ({ ...o, seq: BigInt(o.seq as string), at: new Date(o.at as string) }) as unknown as ChainedAuditRow,
      );
      expect(await verifyAuditChain(rows)).toMatchObject({ ok: true, checked: EVENTS.length });
    });

    it("writes to stdout without --output", async () => {
      const result = await sesame(["audit", "export"], pristine.url);
      expect(result.code).toBe(0);
      expect(
        result.stdout
          .trimEnd()
          .split("\n")
          .map((line) => (JSON.parse(line) as { seq: string }).seq),
      ).toEqual(pristine.seqs.map(String));
    });

    it("--format csv fails with a clear message and writes nothing", async () => {
      const file = join(dir, "audit.csv");
      const result = await sesame(["audit", "export", "--format", "csv", "--output", file], pristine.url);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`--format: only jsonl is supported (got "csv")`);
      expect(existsSync(file)).toBe(false);
    });
  });
});

describe("sesame audit verify after superuser tampering", () => {
  it("an edited row: exit 1, naming that seq and 'edited'", async () => {
    const { url, seqs } = await seededDatabase("edited");
    const target = seqs[2]!;
    await tamper(url, [
      [
        `UPDATE "AuditEvent" SET data = '{"connector":"postgres","target":{"database":"app","role":"owner"}}' WHERE seq = $1`,
        [target.toString()],
      ],
    ]);

    const result = await sesame(["audit", "verify"], url);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Audit chain BROKEN at event ${target} (2 events before it are intact)`);
    expect(result.stdout).toContain(`row ${target} was edited`);
  });

  it("a deleted middle row: exit 1, naming the row that follows it", async () => {
    const { url, seqs } = await seededDatabase("deleted");
    await tamper(url, [[`DELETE FROM "AuditEvent" WHERE seq = $1`, [seqs[2]!.toString()]]]);

    const result = await sesame(["audit", "verify"], url);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Audit chain BROKEN at event ${seqs[3]}`);
    expect(result.stdout).toMatch(new RegExp(`row ${seqs[3]} does not follow the previous row`));
  });

  it("rows deleted from the end: caught only against a hash recorded earlier (--known-hash)", async () => {
    const { url, seqs } = await seededDatabase("truncated");
    const before = await sesame(["audit", "verify"], url);
    const head = /last hash ([0-9a-f]{64})/.exec(before.stdout)![1]!;
    await tamper(url, [[`DELETE FROM "AuditEvent" WHERE seq = $1`, [seqs[seqs.length - 1]!.toString()]]]);

    expect((await sesame(["audit", "verify"], url)).code).toBe(0);
    const result = await sesame(["audit", "verify", "--known-hash", head], url);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/no longer contains the hash .* its newest rows were deleted/);
  });

  it("two rows whose contents were swapped (reordered): exit 1", async () => {
    const { url, seqs } = await seededDatabase("reordered");
    const [a, b] = [seqs[1]!.toString(), seqs[2]!.toString()];
    const columns = `"at", "type", "actorId", "requestId", "grantId", "data", "prevHash", "hash"`;
    const copyFrom = (source: string) =>
      `UPDATE "AuditEvent" SET (${columns}) = (SELECT ${columns} FROM original WHERE seq = ${source}) WHERE seq = $1`;
    await tamper(url, [
      [`CREATE TEMP TABLE original AS SELECT * FROM "AuditEvent" WHERE seq IN (${a}, ${b})`],
      [`UPDATE "AuditEvent" SET hash = 'moving-' || seq WHERE seq IN ($1, $2)`, [a, b]],
      [copyFrom(b), [a]],
      [copyFrom(a), [b]],
    ]);
    const { rows } = await sql<{ seq: string; type: string }>(
      url,
      `SELECT seq, type FROM "AuditEvent" WHERE seq IN ($1, $2) ORDER BY seq`,
      [a, b],
    );
    expect(rows.map((row) => row.type)).toEqual([EVENTS[2]!.type, EVENTS[1]!.type]);

    const result = await sesame(["audit", "verify"], url);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Audit chain BROKEN at event ${a}`);
    expect(result.stdout).toContain(`row ${a} does not follow the previous row`);
  });
});
