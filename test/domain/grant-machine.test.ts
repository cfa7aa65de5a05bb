import { describe, expect, it } from "vitest";
import { AppError } from "../../src/domain/errors.js";
import {
  canApply,
  type GrantEvent,
  type GrantState,
  type GrantStatus,
  isDue,
  transitionGrant,
} from "../../src/domain/grant-machine.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const EXPIRES = new Date("2026-03-01T13:00:00.000Z");
const LATER = new Date("2026-03-01T15:00:00.000Z");

const STATUSES: GrantStatus[] = ["scheduled", "active", "revoking", "revoked", "grant_failed", "revoke_failed"];

const EVENTS: GrantEvent[] = [
  { type: "activated" },
  { type: "activation_failed" },
  { type: "revoke", cause: "admin" },
  { type: "revoked" },
  { type: "revoke_failed" },
  { type: "extend", expiresAt: LATER },
];

/** The documented machine, written out independently of the source: event → from → to. */
const EXPECTED: Record<GrantEvent["type"], Partial<Record<GrantStatus, GrantStatus>>> = {
  activated: { scheduled: "active" },
  activation_failed: { scheduled: "grant_failed" },
  revoke: { scheduled: "revoking", active: "revoking", revoking: "revoking", revoke_failed: "revoking" },
  revoked: { revoking: "revoked" },
  revoke_failed: { revoking: "revoke_failed" },
  extend: { active: "active" },
};

const grant = (status: GrantStatus, overrides: Partial<GrantState> = {}): GrantState => ({
  status,
  version: 4,
  expiresAt: EXPIRES,
  ...overrides,
});

function conflictOf(work: () => unknown): AppError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected the transition to throw");
}

const cells = EVENTS.flatMap((event) =>
  STATUSES.map((status) => ({ event, status, to: EXPECTED[event.type][status] })),
);
const allowed = cells.filter((cell) => cell.to !== undefined);
const refused = cells.filter((cell) => cell.to === undefined);

describe("transitionGrant: every event × every status", () => {
  it("the table covers all 36 combinations, 9 of them allowed", () => {
    expect(cells).toHaveLength(36);
    expect(allowed).toHaveLength(9);
  });

  it.each(allowed)("$event.type from $status → $to (version + 1, canApply true)", ({ event, status, to }) => {
    const state = grant(status);
    expect(canApply(state, event)).toBe(true);
    const next = transitionGrant(state, event, NOW);
    expect(next.status).toBe(to);
    expect(next.version).toBe(state.version + 1);
    expect(state).toEqual(grant(status));
  });

  it.each(refused)("$event.type from $status is refused with conflict (canApply false)", ({ event, status }) => {
    const state = grant(status);
    expect(canApply(state, event)).toBe(false);
    const error = conflictOf(() => transitionGrant(state, event, NOW));
    expect(error.code).toBe("conflict");
    expect(error.details).toEqual({ status });
    expect(error.message).toBe(`grant event ${event.type} not allowed in status ${status}`);
    expect(error.userMessage.length).toBeGreaterThan(0);
  });

  it("tells the user plainly why a revoked grant cannot change", () => {
    expect(
      conflictOf(() => transitionGrant(grant("revoked"), { type: "extend", expiresAt: LATER }, NOW)).userMessage,
    ).toBe("This grant has already been revoked.");
  });
});

describe("transitionGrant: revoke", () => {
  it.each(["expired", "relinquished", "admin", "request_cancelled"] as const)(
    "a scheduled grant revoked (%s) still goes through revoking, so the connector cleans up",
    (cause) => {
      expect(transitionGrant(grant("scheduled"), { type: "revoke", cause }, NOW).status).toBe("revoking");
    },
  );

  it("an active grant goes through revoking, then revoked", () => {
    const revoking = transitionGrant(grant("active"), { type: "revoke", cause: "expired" }, NOW);
    expect(revoking).toEqual({ status: "revoking", version: 5, expiresAt: EXPIRES });
    expect(transitionGrant(revoking, { type: "revoked" }, NOW)).toEqual({
      status: "revoked",
      version: 6,
      expiresAt: EXPIRES,
    });
  });

  it("a failed revoke can be retried until it succeeds", () => {
    const failed = transitionGrant(grant("revoking"), { type: "revoke_failed" }, NOW);
    const retry = transitionGrant(failed, { type: "revoke", cause: "expired" }, NOW);
    expect(retry.status).toBe("revoking");
    expect(transitionGrant(retry, { type: "revoked" }, NOW).status).toBe("revoked");
  });
});

describe("transitionGrant: extend", () => {
  it("moves the expiry later and keeps the grant active", () => {
    expect(transitionGrant(grant("active"), { type: "extend", expiresAt: LATER }, NOW)).toEqual({
      status: "active",
      version: 5,
      expiresAt: LATER,
    });
  });

  it.each([
    { name: "the same expiry", expiresAt: EXPIRES },
    { name: "an earlier expiry", expiresAt: new Date(EXPIRES.getTime() - 60_000) },
  ])("refuses $name with invalid_input", ({ expiresAt }) => {
    const error = conflictOf(() => transitionGrant(grant("active"), { type: "extend", expiresAt }, NOW));
    expect(error.code).toBe("invalid_input");
  });

  it("refuses an extension of an overdue grant that still ends in the past", () => {
    const overdue = grant("active", { expiresAt: new Date(NOW.getTime() - 120_000) });
    const stillPast = new Date(NOW.getTime() - 60_000);
    expect(conflictOf(() => transitionGrant(overdue, { type: "extend", expiresAt: stillPast }, NOW)).code).toBe(
      "invalid_input",
    );
    expect(transitionGrant(overdue, { type: "extend", expiresAt: LATER }, NOW).expiresAt).toEqual(LATER);
  });
});

describe("isDue", () => {
  it("an active grant is due once now reaches its expiry, not before", () => {
    expect(isDue(grant("active"), new Date(EXPIRES.getTime() - 1))).toBe(false);
    expect(isDue(grant("active"), EXPIRES)).toBe(true);
    expect(isDue(grant("active"), new Date(EXPIRES.getTime() + 1))).toBe(true);
  });

  it.each(STATUSES.filter((s) => s !== "active"))("a %s grant is never due, even long past expiry", (status) => {
    expect(isDue(grant(status), new Date(EXPIRES.getTime() + 86_400_000))).toBe(false);
  });
});
