import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../../src/cli/main.js";

/** `sesame connectors check` names, per connector, what is wrong in words and exits 1 if anything is. */

const SECRET_URL = "postgresql://sesame:S3cret-Passw0rd@127.0.0.1:1/postgres";

async function policyFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sesame-check-"));
  const path = join(dir, "policy.yaml");
  await writeFile(
    path,
    `
version: 1
people: [{ id: alice, email: alice@example.com }, { id: bob, email: bob@example.com }]
connectors:
  demo: { type: noop, config: {} }
  flaky: { type: noop, config: { failRevoke: true } }
  unreachable-db: { type: postgres, config: { url: { env: CHECK_TEST_PG_URL }, connectTimeoutSeconds: 2 } }
resources:
  demo-res: { connector: demo }
  flaky-res: { connector: flaky }
  db-res: { connector: unreachable-db, target: { role: readonly } }
policies:
  - id: p
    resources: [demo-res, flaky-res, db-res]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 2h }
    approvers: { users: [bob] }
`,
  );
  return path;
}

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const errors = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    const code = await runCli(args);
    return { code, out };
  } finally {
    spy.mockRestore();
    errors.mockRestore();
    process.exitCode = undefined;
  }
}

afterEach(() => {
  delete process.env.CHECK_TEST_PG_URL;
});

describe("sesame connectors check", () => {
  it("reports each connector in words and fails when one is broken, without printing secrets", async () => {
    process.env.CHECK_TEST_PG_URL = SECRET_URL;
    const { code, out } = await run(["connectors", "check", "--file", await policyFile()]);
    expect(code).toBe(1);
    expect(out).toContain("✓ demo (noop): ok");
    expect(out).toMatch(/✗ flaky \(noop\):\n\s+configured to fail revokes/);
    expect(out).toMatch(/✗ unreachable-db \(postgres\):\n\s+cannot connect to PostgreSQL/);
    expect(out).not.toContain("S3cret-Passw0rd");
  });

  it("names the missing environment variable of a secret before checking anything", async () => {
    const { code, out } = await run(["connectors", "check", "--file", await policyFile()]);
    expect(code).toBe(1);
    expect(out).toMatch(/CHECK_TEST_PG_URL is not set/);
  });
});
