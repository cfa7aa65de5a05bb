import { describe, expect, it } from "vitest";
import { createOutageLog } from "../../src/storage/outage-log.js";

function recordingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) =>
    void lines.push({ level, fields, message });
  return { lines, logger: { info: at("info"), warn: at("warn"), error: at("error") } };
}

describe("outage log", () => {
  const messages = {
    service: "postgres",
    down: "database unreachable",
    up: "database recovered",
    secrets: ["postgresql://sesame:hunter2@db.internal:5432/sesame"],
  };

  it("logs an outage once when it starts and once when it ends, however many failures come between", () => {
    const { lines, logger } = recordingLogger();
    const log = createOutageLog(logger, messages);
    log.up();
    for (let attempt = 0; attempt < 50; attempt += 1) log.down(new Error("connect ECONNREFUSED 10.0.0.5:5432"));
    log.up();
    log.up();
    log.down(new Error("Connection terminated unexpectedly"));
    log.up();
    expect(lines.map((line) => [line.level, line.message])).toEqual([
      ["error", "database unreachable"],
      ["info", "database recovered"],
      ["error", "database unreachable"],
      ["info", "database recovered"],
    ]);
    expect(lines[0]?.fields).toEqual({ service: "postgres", reason: "connect ECONNREFUSED 10.0.0.5:5432" });
  });

  it("keeps the last line of a driver's message and never a connection string's password", () => {
    const { lines, logger } = recordingLogger();
    createOutageLog(logger, messages).down(
      new Error(
        "\nInvalid `db.grant.findMany()` invocation in\n/app/src/x.ts:3:9\n\n  2 const x =\n" +
          "could not connect to postgresql://sesame:hunter2@db.internal:5432/sesame",
      ),
    );
    expect(lines[0]?.fields.reason).toMatch(/^could not connect to /);
    expect(JSON.stringify(lines)).not.toContain("hunter2");
  });
});
