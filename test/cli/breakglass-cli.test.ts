import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";

/** `sesame breakglass list` against a real database: unreviewed break-glass requests until someone reviews them. */

const POLICY = `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
connectors:
  demo: { type: noop }
resources:
  prod-db: { connector: demo }
policies:
  - id: prod
    resources: [prod-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 4h }
    approvers: { users: [bob] }
    breakGlass: { maxDuration: 30m }
`;

let sesame: TestSesame;
beforeAll(async () => {
  sesame = await startSesame("breakglass_cli", { policy: POLICY, identities: ["alice", "bob"] });
});
afterAll(async () => sesame?.stop());

async function sesameCli(args: string[]): Promise<{ code: number; stdout: string }> {
  const stdout: string[] = [];
  vi.stubEnv("DATABASE_URL", sesame.databaseUrl);
  vi.spyOn(process.stdout, "write").mockImplementation(((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  }) as typeof process.stdout.write);
  try {
    return { code: await runCli(args), stdout: stdout.join("") };
  } finally {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    process.exitCode = undefined;
  }
}

describe("sesame breakglass list", () => {
  it("lists break-glass access until it is reviewed", async () => {
    expect((await sesameCli(["breakglass", "list"])).stdout).toBe("No break-glass access waits for review.\n");
    const created = await sesame.api("alice", "POST", "/api/v1/requests", {
      resource: "prod-db",
      duration: "20m",
      breakGlass: true,
      reason: "payments are down",
    });
    expect(created.status).toBe(201);
    const listed = await sesameCli(["breakglass", "list"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${created.body.id}`);
    expect(listed.stdout).toContain("alice → prod-db for 20m: payments are down");
    expect(listed.stdout).toContain("1 unreviewed.");
    expect((await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/review`, {})).status).toBe(200);
    expect((await sesameCli(["breakglass", "list"])).stdout).toBe("No break-glass access waits for review.\n");
  });
});
