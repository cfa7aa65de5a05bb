import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { EnvError, EnvSchema, parseEnv } from "../../src/config/env.js";

const validKey = Buffer.alloc(32, 7).toString("base64");
const minimal = {
  DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/sesame",
  REDIS_URL: "redis://127.0.0.1:6379",
  SESAME_POLICY_FILE: "examples/policy.yaml",
  SESAME_ENCRYPTION_KEY: validKey,
};

describe("environment", () => {
  it(".env.example lists exactly the variables the schema reads", async () => {
    const text = await readFile(new URL("../../.env.example", import.meta.url), "utf8");
    const documented = text
      .split("\n")
      .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line))
      .map((line) => line.split("=")[0]);
    expect(documented.sort()).toEqual(Object.keys(EnvSchema.shape).sort());
  });

  it("gives every documented variable a comment", async () => {
    const lines = (await readFile(new URL("../../.env.example", import.meta.url), "utf8")).split("\n");
    lines.forEach((line, index) => {
      if (/^[A-Z_][A-Z0-9_]*=/.test(line)) expect(lines[index - 1]).toMatch(/^#/);
    });
  });

  it("applies defaults when only the required variables are set", () => {
    const env = parseEnv(minimal);
    expect(env).toMatchObject({
      PORT: 3978,
      SESAME_ROLE: "all",
      SESAME_SWEEP_INTERVAL: 30,
      SESAME_RUN_MIGRATIONS: true,
    });
  });

  it("names every missing or malformed variable on its own line, without echoing values", () => {
    const secret = "not-base64-but-secret-looking";
    let error: unknown;
    try {
      parseEnv({ DATABASE_URL: "mysql://x", PORT: "99999", SESAME_ENCRYPTION_KEY: secret });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EnvError);
    const problems = (error as EnvError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DATABASE_URL: must be a postgresql:\/\//),
        "REDIS_URL: is required but not set",
        expect.stringMatching(/^PORT: /),
        "SESAME_POLICY_FILE: is required but not set",
        expect.stringMatching(/^SESAME_ENCRYPTION_KEY: must be 32 random bytes/),
      ]),
    );
    expect((error as Error).message).not.toContain(secret);
  });

  it("refuses an audit webhook URL that carries a user or password, without echoing it", () => {
    let error: unknown;
    try {
      parseEnv({ ...minimal, SESAME_AUDIT_WEBHOOK_URL: "https://siem:hunter2hunter2@siem.example/collect" });
    } catch (caught) {
      error = caught;
    }
    expect((error as EnvError).problems).toEqual([
      expect.stringMatching(/^SESAME_AUDIT_WEBHOOK_URL: must not carry a user or password/),
    ]);
    expect((error as Error).message).not.toContain("hunter2");
    expect(
      parseEnv({ ...minimal, SESAME_AUDIT_WEBHOOK_URL: "https://siem.example/collect?token=t" })
        .SESAME_AUDIT_WEBHOOK_URL,
    ).toBe("https://siem.example/collect?token=t");
  });

  it("has no default for any secret", () => {
    expect(() => parseEnv({ ...minimal, SESAME_ENCRYPTION_KEY: undefined })).toThrow(
      /SESAME_ENCRYPTION_KEY: is required/,
    );
  });

  it("reads the database timeouts as durations, with defaults and upper bounds", () => {
    expect(parseEnv(minimal)).toMatchObject({ SESAME_DB_CONNECT_TIMEOUT: 5, SESAME_DB_STATEMENT_TIMEOUT: 30 });
    expect(parseEnv({ ...minimal, SESAME_DB_CONNECT_TIMEOUT: "10s", SESAME_DB_STATEMENT_TIMEOUT: "2m" })).toMatchObject(
      { SESAME_DB_CONNECT_TIMEOUT: 10, SESAME_DB_STATEMENT_TIMEOUT: 120 },
    );
    expect(() => parseEnv({ ...minimal, SESAME_DB_CONNECT_TIMEOUT: "soon" })).toThrow(
      /SESAME_DB_CONNECT_TIMEOUT: must be a duration like 30s/,
    );
    expect(() => parseEnv({ ...minimal, SESAME_DB_CONNECT_TIMEOUT: "2m" })).toThrow(
      /SESAME_DB_CONNECT_TIMEOUT: must be at most 1m/,
    );
    expect(() => parseEnv({ ...minimal, SESAME_DB_STATEMENT_TIMEOUT: "1h" })).toThrow(
      /SESAME_DB_STATEMENT_TIMEOUT: must be at most 10m/,
    );
  });

  it("refuses malformed API token pairs", () => {
    expect(() => parseEnv({ ...minimal, SESAME_API_TOKENS: "alice=short" })).toThrow(
      /SESAME_API_TOKENS: must be a comma-separated list/,
    );
  });
});
