import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable, isDatabaseUnreachable } from "../../src/storage/database-errors.js";

/** The shapes seen from Prisma 7 with @prisma/adapter-pg when the server went away (test/integration/dependency-outages.test.ts). */
const prisma = (code: string, kind?: string) =>
  Object.assign(new Error(`Invalid \`db.x()\` invocation: ${code}`), {
    code,
    meta: kind ? { driverAdapterError: { name: "DriverAdapterError", cause: { kind } } } : {},
  });
const pgError = (code: string) => Object.assign(new Error("server says no"), { code, severity: "FATAL" });

describe("database errors", () => {
  it.each([
    ["connection refused", prisma("P1001", "DatabaseNotReachable")],
    ["connection closed mid-query", prisma("P1017")],
    ["a raw query on a lost connection", prisma("P2010", "ConnectionClosed")],
    ["a socket reset", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", syscall: "read" })],
    ["pg's connect timeout", new Error("Connection terminated due to connection timeout")],
    ["a connection that died", new Error("Connection terminated unexpectedly")],
    ["a half-open connection", new Error("Query read timeout")],
    ["an administrator shutdown", pgError("57P01")],
    ["a connection exception", pgError("08006")],
    ["a wrapped cause", new Error("outer", { cause: new Error("Connection terminated unexpectedly") })],
  ])("counts %s as unreachable", (_what, error) => {
    expect(isDatabaseUnreachable(error)).toBe(true);
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ["a pool with no free connection", new Error("timeout exceeded when trying to connect")],
    ["Prisma's pool timeout", prisma("P2024")],
    ["a server out of connection slots", pgError("53300")],
  ])("counts %s as busy: a retry, but no outage", (_what, error) => {
    expect(isDatabaseUnreachable(error)).toBe(false);
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ["a unique violation", prisma("P2002")],
    ["a statement timeout", pgError("57014")],
    ["a plain bug", new TypeError("x is undefined")],
    ["a string", "Connection terminated"],
    ["nothing", undefined],
  ])("leaves %s alone", (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
