import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runCli } from "../src/cli/main.js";
import { type ChainEntry, verifyAuditChain } from "../src/domain/audit-chain-verify.js";
import type { AuditInput } from "../src/domain/audit-event.js";
import { appendAuditEvent } from "../src/storage/audit-repository.js";
import { createDatabase, sqlPoolOf } from "../src/storage/prisma-client.js";
import { chainEverything } from "./helpers/audit-chain.js";
import { createMigratedDatabase } from "./helpers/database.js";

/**
 * `sesame audit verify` and `sesame audit export` against a real PostgreSQL. Tampering is done the
 * way a superuser attacker would: switch triggers (append-only, foreign keys) off, then edit the
 * tables directly.
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

/**
 * A migrated database holding EVENTS, every one chained, with one sequence gap from a rolled-back
 * append. Returns the seqs in order (one event per transaction: chain order is seq order here).
 */
async function seededDatabase(label: string): Promise<{ url: string; seqs: bigint[] }> {
  const database = await createMigratedDatabase(`audit_cli_${label}`);
  dropAfterwards.push(database);
  const db = createDatabase(database.url);
  try {
    for (const [index, event] of EVENTS.entries()) {
      await appendAuditEvent(sqlPoolOf(db), event);
      if (index === 1) {
        const rolledBack = sqlPoolOf(db).transaction(
          async (tx) => {
            await appendAuditEvent(tx, { type: "request.submitted", actorId: "mallory" });
            throw new Error("rolled back on purpose");
          },
          { timeoutMs: 15_000 },
        );
        await expect(rolledBack).rejects.toThrow("rolled back on purpose");
      }
    }
    await chainEverything(db);
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

/**
 * What an attacker with superuser rights does: switch off every trigger for the session (the
 * append-only ones and the foreign key from links to events), then tamper.
 */
async function tamper(url: string, statements: [string, unknown[]?][]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SET session_replication_role = replica`);
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

/** Exported JSON lines, back as chain entries an offline check can verify. */
function entriesOf(objects: Record<string, unknown>[]): ChainEntry[] {
  return objects.map((o) => ({
    position: BigInt(o.position as string),
    eventSeq: BigInt(o.seq as string),
    prevHash: o.prevHash as string,
    hash: o.hash as string,
    event: {
      at: new Date(o.at as string),
      type: o.type as string,
      actorId: o.actorId as string | null,
      requestId: o.requestId as string | null,
      grantId: o.grantId as string | null,
      data: o.data,
    },
  }));
}

describe("sesame audit verify on an untouched log", () => {
  let pristine: { url: string; seqs: bigint[] };
  beforeAll(async () => {
    pristine = await seededDatabase("pristine");
  });

  it("reports the chain intact, across the gap a rolled-back append left in seq, which left no link", async () => {
    expect(pristine.seqs).toHaveLength(EVENTS.length);
    expect(pristine.seqs[2]! - pristine.seqs[1]!).toBe(2n);
    const { rows } = await sql<{ seq: string; hash: string }>(
      pristine.url,
      `SELECT "eventSeq"::text AS seq, hash FROM "AuditChainLink" ORDER BY position`,
    );
    expect(rows.map((row) => BigInt(row.seq))).toEqual(pristine.seqs);

    const result = await sesame(["audit", "verify"], pristine.url);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Audit chain intact: ${EVENTS.length} events, last hash ${rows.at(-1)!.hash}.`);
    expect(result.stdout).not.toContain("not chained yet");
  });

  it("the database itself refuses UPDATE, DELETE and TRUNCATE of events and links while the triggers are on", async () => {
    const target = pristine.seqs[2]!.toString();
    await expect(
      sql(pristine.url, `UPDATE "AuditEvent" SET data = '{"reason":"forged"}' WHERE seq = $1`, [target]),
    ).rejects.toThrow(/append-only/);
    await expect(sql(pristine.url, `DELETE FROM "AuditEvent" WHERE seq = $1`, [target])).rejects.toThrow(/append-only/);
    // TRUNCATE of the events alone is refused by the links' foreign key before any trigger runs.
    await expect(sql(pristine.url, `TRUNCATE "AuditEvent"`)).rejects.toThrow(/append-only|foreign key/);
    await expect(sql(pristine.url, `TRUNCATE "AuditEvent" CASCADE`)).rejects.toThrow(/append-only/);
    await expect(sql(pristine.url, `UPDATE "AuditChainLink" SET watermark = 0`)).rejects.toThrow(
      /AuditChainLink is append-only/,
    );
    await expect(sql(pristine.url, `DELETE FROM "AuditChainLink"`)).rejects.toThrow(/AuditChainLink is append-only/);
    await expect(sql(pristine.url, `TRUNCATE "AuditChainLink"`)).rejects.toThrow(/AuditChainLink is append-only/);

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

    it("--format jsonl --output writes one JSON object per line in chain order, and the export re-verifies", async () => {
      const file = join(dir, "audit.jsonl");
      const result = await sesame(["audit", "export", "--format", "jsonl", "--output", file], pristine.url);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe("");

      const text = await readFile(file, "utf8");
      expect(text.endsWith("\n")).toBe(true);
      const lines = text.trimEnd().split("\n");
      expect(lines).toHaveLength(EVENTS.length);
      const objects = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(objects.map((o) => o.position)).toEqual(EVENTS.map((_, i) => String(i + 1)));
      expect(objects.map((o) => o.seq)).toEqual(pristine.seqs.map(String));
      expect(objects.map((o) => o.type)).toEqual(EVENTS.map((e) => e.type));
      expect(Object.keys(objects[2]!)).toEqual([
        "position",
        "seq",
        "at",
        "type",
        "actorId",
        "requestId",
        "grantId",
        "data",
        "prevHash",
        "hash",
      ]);
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
      expect(await verifyAuditChain(entriesOf(objects))).toMatchObject({ ok: true, checked: EVENTS.length });
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

describe("events the chainer cannot link yet", () => {
  it("are reported as waiting, not as broken, and exported last without a position; chained once the older transaction ends", async () => {
    const { url, seqs } = await seededDatabase("waiting");
    // A transaction that has written (so it has a transaction id) and stays open, like a slow
    // business transaction anywhere in the cluster: events committed after it must wait for it.
    const older = new pg.Client({ connectionString: url });
    await older.connect();
    const db = createDatabase(url);
    try {
      await older.query("BEGIN");
      await older.query("SELECT pg_current_xact_id()");
      await appendAuditEvent(sqlPoolOf(db), { type: "grant.revoked", grantId: "grant-2" });

      const verify = await sesame(["audit", "verify"], url);
      expect(verify.code).toBe(0);
      expect(verify.stdout).toContain(`Audit chain intact: ${EVENTS.length} events, last hash `);
      expect(verify.stdout).toContain("; 1 newer event(s) not chained yet");

      const exported = await sesame(["audit", "export"], url);
      const objects = exported.stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(objects).toHaveLength(EVENTS.length + 1);
      expect(objects.at(-1)).toMatchObject({ position: null, type: "grant.revoked", prevHash: null, hash: null });
      expect(BigInt(objects.at(-1)!.seq as string)).toBeGreaterThan(seqs.at(-1)!);

      await older.query("ROLLBACK");
      await chainEverything(db);
      const after = await sesame(["audit", "verify"], url);
      expect(after.code).toBe(0);
      expect(after.stdout).toContain(`Audit chain intact: ${EVENTS.length + 1} events, last hash `);
      expect(after.stdout).not.toContain("not chained yet");
    } finally {
      await older.end();
      await db.$disconnect();
    }
  });
});

describe("sesame audit verify after superuser tampering", () => {
  it("an edited event: exit 1, naming that seq and 'edited'", async () => {
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
    expect(result.stdout).toContain(`event ${target} (chain position 3) was edited`);
  });

  it("a deleted event whose link remains: exit 1, naming it", async () => {
    const { url, seqs } = await seededDatabase("deleted_event");
    await tamper(url, [[`DELETE FROM "AuditEvent" WHERE seq = $1`, [seqs[2]!.toString()]]]);

    const result = await sesame(["audit", "verify"], url);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Audit chain BROKEN at event ${seqs[2]}`);
    expect(result.stdout).toContain(`event ${seqs[2]} (chain position 3) was deleted`);
  });

  it("a deleted middle event and its link: exit 1, naming the event that follows", async () => {
    const { url, seqs } = await seededDatabase("deleted");
    await tamper(url, [
      [`DELETE FROM "AuditChainLink" WHERE "eventSeq" = $1`, [seqs[2]!.toString()]],
      [`DELETE FROM "AuditEvent" WHERE seq = $1`, [seqs[2]!.toString()]],
    ]);

    const result = await sesame(["audit", "verify"], url);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Audit chain BROKEN at event ${seqs[3]} (2 events before it are intact)`);
    expect(result.stdout).toContain(`event ${seqs[3]} (chain position 4) comes after position 2`);
  });

  it("events and links deleted from the end: caught only against a hash recorded earlier (--known-hash)", async () => {
    const { url, seqs } = await seededDatabase("truncated");
    const before = await sesame(["audit", "verify"], url);
    const head = /last hash ([0-9a-f]{64})/.exec(before.stdout)![1]!;
    const last = seqs.at(-1)!.toString();
    await tamper(url, [
      [`DELETE FROM "AuditChainLink" WHERE "eventSeq" = $1`, [last]],
      [`DELETE FROM "AuditEvent" WHERE seq = $1`, [last]],
    ]);

    expect((await sesame(["audit", "verify"], url)).code).toBe(0);
    const result = await sesame(["audit", "verify", "--known-hash", head], url);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/no longer contains the hash .* its newest links were deleted/);
  });

  it("a malformed --known-hash (a typo) is refused as such, never reported as deleted events", async () => {
    const { url } = await seededDatabase("typo");
    for (const typo of ["0000", "z".repeat(64), `${"a".repeat(63)}`]) {
      const result = await sesame(["audit", "verify", "--known-hash", typo], url);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("has 64 hexadecimal characters. Nothing was checked");
      expect(`${result.stdout}${result.stderr}`).not.toMatch(/deleted|BROKEN/);
    }
    const head = /last hash ([0-9a-f]{64})/.exec((await sesame(["audit", "verify"], url)).stdout)![1]!;
    const upper = await sesame(["audit", "verify", "--known-hash", head.toUpperCase()], url);
    expect(upper.code).toBe(0);
  });

  it("an event inserted into the past (below the watermark, without a link): exit 1, naming it", async () => {
    const { url } = await seededDatabase("inserted");
    // Stamped with the first event's transaction id, so it looks as old as the chain itself.
    await tamper(url, [
      [
        `INSERT INTO "AuditEvent" (type, "actorId", data, txid)
         SELECT 'request.approved', 'mallory', '{}', min(txid) FROM "AuditEvent"`,
      ],
    ]);
    const { rows } = await sql<{ seq: string }>(url, `SELECT max(seq)::text AS seq FROM "AuditEvent"`);
    const forged = rows[0]!.seq;

    const result = await sesame(["audit", "verify"], url);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `Audit chain BROKEN at event ${forged} (${EVENTS.length} events before it are intact)`,
    );
    expect(result.stdout).toContain(`event ${forged} is not in the chain`);
  });

  it("two links swapped in position (reordered): exit 1, naming the first", async () => {
    const { url, seqs } = await seededDatabase("reordered");
    await tamper(url, [
      [`UPDATE "AuditChainLink" SET position = -position WHERE position IN (2, 3)`],
      [`UPDATE "AuditChainLink" SET position = 5 + position WHERE position IN (-2, -3)`],
    ]);

    const result = await sesame(["audit", "verify"], url);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Audit chain BROKEN at event ${seqs[2]} (1 events before it are intact)`);
    expect(result.stdout).toContain(`event ${seqs[2]} (chain position 2) does not follow the previous link`);
  });

  it("two events whose contents were swapped (reordered under their seqs): exit 1, naming the first", async () => {
    const { url, seqs } = await seededDatabase("swapped");
    const [a, b] = [seqs[1]!.toString(), seqs[2]!.toString()];
    const columns = `"at", "type", "actorId", "requestId", "grantId", "data"`;
    const copyFrom = (source: string) =>
      `UPDATE "AuditEvent" SET (${columns}) = (SELECT ${columns} FROM original WHERE seq = ${source}) WHERE seq = $1`;
    await tamper(url, [
      [`CREATE TEMP TABLE original AS SELECT * FROM "AuditEvent" WHERE seq IN (${a}, ${b})`],
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
    expect(result.stdout).toContain(`Audit chain BROKEN at event ${a} (1 events before it are intact)`);
    expect(result.stdout).toContain(`event ${a} (chain position 2) was edited`);
  });
});
