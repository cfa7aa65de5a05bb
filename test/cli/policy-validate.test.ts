import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../../src/cli/main.js";

/** `sesame policy validate` warns, in this environment, about what `sesame start` would refuse or ignore. */

const POLICY = `
version: 1
people:
  - { id: carol, email: carol@example.com }
  - { id: dave, email: dave@example.com, admin: true }
connectors:
  ok: { type: noop }
resources:
  incident-db: { connector: ok, target: { role: incident } }
policies:
  - id: incident
    resources: [incident-db]
    requesters: { everyone: true }
    duration: { default: 1h, max: 4h }
    reason: { required: false }
    approvers: { users: [dave] }
eventAccess:
  - source: monitoring
    resources: [incident-db]
    subjects: { users: [carol] }
    maxDuration: 2h
    reason: monitoring alert
  - source: ci-runner
    resources: [incident-db]
    subjects: { users: [carol] }
    maxDuration: 1h
    reason: a CI job
`;

async function validate(): Promise<{ code: number; out: string }> {
  const dir = await mkdtemp(join(tmpdir(), "sesame-validate-"));
  const path = join(dir, "policy.yaml");
  await writeFile(path, POLICY);
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    return { code: await runCli(["policy", "validate", path]), out };
  } finally {
    spy.mockRestore();
    process.exitCode = undefined;
  }
}

afterEach(() => {
  delete process.env.SESAME_EVENT_SECRET_MONITORING;
});

describe("sesame policy validate", () => {
  it("warns about an event source secret too short to start with and one not set, and still exits 0", async () => {
    process.env.SESAME_EVENT_SECRET_MONITORING = "too-short";
    const { code, out } = await validate();
    expect(code).toBe(0);
    expect(out).toContain("is valid");
    expect(out).toMatch(/warning: .*SESAME_EVENT_SECRET_MONITORING.*\(Sesame refuses to start with it\)/);
    expect(out).toContain("warning: SESAME_EVENT_SECRET_CI_RUNNER is not set");
    expect(out).not.toContain("too-short");
  });
});
