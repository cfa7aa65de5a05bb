import { describe, expect, it } from "vitest";
import { AppError, type AppErrorCode } from "../../src/domain/errors.js";
import type { GrantRow, GrantStatus, RevokeCause } from "../../src/domain/grant.js";
import {
  canApply,
  expiryFrom,
  extendedExpiry,
  type GrantEvent,
  type GrantTransition,
  NO_CHANGE,
  revokeStage,
  transitionGrant,
} from "../../src/domain/grant-machine.js";

// ---------------------------------------------------------------------------------------------
// Fixtures: fixed dates and full rows. The grant was created at 11:59, activated at 12:00 for an
// hour; the clock says 12:30 unless a test moves it.
// ---------------------------------------------------------------------------------------------

const CREATED = new Date("2026-03-01T11:59:00.000Z");
const ACTIVATED = new Date("2026-03-01T12:00:00.000Z");
const EXPIRES = new Date("2026-03-01T13:00:00.000Z");
const NOW = new Date("2026-03-01T12:30:00.000Z");
const AFTER_EXPIRY = new Date("2026-03-01T13:00:00.001Z");
const HOUR = 3600;

const RECEIPT = { role: "alice_ro", validUntil: "2026-03-01T13:00:00.000Z" };

const STATUSES: GrantStatus[] = ["scheduled", "active", "revoking", "revoked", "grant_failed", "revoke_failed"];

/** A grant as it looks in each status: only the fields that status implies are set. */
function grantRow(status: GrantStatus, overrides: Partial<GrantRow> = {}): GrantRow {
  const activated = status !== "scheduled" && status !== "grant_failed";
  const revoking = status === "revoking" || status === "revoked" || status === "revoke_failed";
  return {
    id: "grant-1",
    requestId: "req-1",
    subjectId: "alice",
    resourceId: "orders-db",
    connectorName: "postgres",
    principal: "alice_ro",
    target: { database: "orders", role: "readonly" },
    entitlementKey: "ek-orders-readonly-alice",
    status,
    version: 4,
    durationSeconds: HOUR,
    startsAt: CREATED,
    expiresAt: EXPIRES,
    activatedAt: activated ? ACTIVATED : null,
    revokedAt: status === "revoked" ? EXPIRES : null,
    revokeReason: revoking ? "expired" : null,
    revokedById: null,
    receipt: activated ? RECEIPT : null,
    hasSecret: false,
    attempts: status === "scheduled" ? 0 : 1,
    lastError: status === "grant_failed" || status === "revoke_failed" ? "connection refused" : null,
    createdAt: CREATED,
    updatedAt: CREATED,
    ...overrides,
  };
}

/** Runs the machine and proves it pure: the input row is exactly as it was. */
function run(grant: GrantRow, event: GrantEvent, now: Date = NOW): GrantTransition {
  const before = structuredClone(grant);
  const result = transitionGrant(grant, event, now);
  expect(grant).toStrictEqual(before);
  return result;
}

/** Expects the transition to be refused with `code` and the row to be untouched. */
function refused(grant: GrantRow, event: GrantEvent, code: AppErrorCode, now: Date = NOW): AppError {
  const before = structuredClone(grant);
  let caught: unknown;
  try {
    transitionGrant(grant, event, now);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected an AppError with code ${code}`).toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe(code);
  expect(grant).toStrictEqual(before);
  return caught as AppError;
}

// ---------------------------------------------------------------------------------------------
// The whole table: every event type × every status
// ---------------------------------------------------------------------------------------------

/** One valid instance of each event type (valid for the default row of any status that takes it). */
const EVENTS: Record<GrantEvent["type"], GrantEvent> = {
  activated: { type: "activated", activatedAt: NOW, receipt: RECEIPT, sealedSecret: null },
  revoke: { type: "revoke", cause: "admin", actorId: "root", reason: "offboarding" },
  revoked: { type: "revoked", retainedByOtherGrants: false },
  attempt_failed: { type: "attempt_failed", operation: "revoke", error: "timeout", final: false },
  cleaned_up: { type: "cleaned_up", retainedByOtherGrants: false },
  extend: { type: "extend", additionalSeconds: 1800, maxTotalSeconds: 4 * HOUR, byRequestId: "req-2" },
  receipt_updated: { type: "receipt_updated", receipt: { role: "alice_ro", validUntil: "later" } },
};

type Outcome = GrantStatus | "no change" | "refused";

/**
 * The documented machine, written out independently of the source: what each event does from each
 * status. A status name is where the grant ends up ("no change" = the very same NO_CHANGE result).
 */
const TABLE: Record<GrantEvent["type"], Record<GrantStatus, Outcome>> = {
  //               scheduled     active        revoking      revoked       grant_failed    revoke_failed
  activated: {
    scheduled: "active",
    active: "refused",
    revoking: "refused",
    revoked: "refused",
    grant_failed: "refused",
    revoke_failed: "refused",
  },
  // No scheduled → revoked edge: an interrupted activation may have reached the target.
  revoke: {
    scheduled: "revoking",
    active: "revoking",
    revoking: "no change",
    revoked: "no change",
    grant_failed: "refused",
    revoke_failed: "revoking",
  },
  revoked: {
    scheduled: "refused",
    active: "refused",
    revoking: "revoked",
    revoked: "refused",
    grant_failed: "refused",
    revoke_failed: "revoked",
  },
  attempt_failed: {
    scheduled: "scheduled",
    active: "active",
    revoking: "revoking",
    revoked: "refused",
    grant_failed: "grant_failed",
    revoke_failed: "revoke_failed",
  },
  cleaned_up: {
    scheduled: "refused",
    active: "refused",
    revoking: "refused",
    revoked: "refused",
    grant_failed: "grant_failed",
    revoke_failed: "refused",
  },
  extend: {
    scheduled: "refused",
    active: "active",
    revoking: "refused",
    revoked: "refused",
    grant_failed: "refused",
    revoke_failed: "refused",
  },
  receipt_updated: {
    scheduled: "refused",
    active: "active",
    revoking: "refused",
    revoked: "refused",
    grant_failed: "refused",
    revoke_failed: "refused",
  },
};

const REFUSAL_MESSAGE: Record<GrantStatus, string> = {
  scheduled: "This grant is not active yet.",
  active: "A grant that is active cannot be changed that way.",
  revoking: "This grant is being revoked.",
  revoked: "This grant has already been revoked.",
  grant_failed: "This grant failed and was never active.",
  revoke_failed: "A grant that is revoke_failed cannot be changed that way.",
};

const cells = (Object.keys(TABLE) as GrantEvent["type"][]).flatMap((type) =>
  STATUSES.map((status) => ({ type, status, outcome: TABLE[type][status] })),
);

describe("transitionGrant: every event × every status", () => {
  it("the table covers all 42 combinations, 16 of them allowed", () => {
    expect(cells).toHaveLength(42);
    expect(cells.filter((cell) => cell.outcome !== "refused")).toHaveLength(16);
  });

  it.each(cells.filter((cell) => cell.outcome !== "refused"))(
    "$type from $status → $outcome (canApply true)",
    ({ type, status, outcome }) => {
      const grant = grantRow(status);
      expect(canApply(grant, type)).toBe(true);
      const result = run(grant, EVENTS[type]);
      if (outcome === "no change") expect(result).toBe(NO_CHANGE);
      else expect(result.patch.status ?? status).toBe(outcome);
    },
  );

  it.each(cells.filter((cell) => cell.outcome === "refused"))(
    "$type from $status is refused with conflict (canApply false)",
    ({ type, status }) => {
      const grant = grantRow(status);
      expect(canApply(grant, type)).toBe(false);
      const error = refused(grant, EVENTS[type], "conflict");
      expect(error.details).toStrictEqual({ status });
      expect(error.message).toBe(`grant event ${type} not allowed in status ${status}`);
      expect(error.userMessage).toBe(REFUSAL_MESSAGE[status]);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// activated
// ---------------------------------------------------------------------------------------------

describe("activated", () => {
  const ASKED_AT = new Date("2026-03-01T12:05:00.000Z");
  // A first attempt failed; the retry is the one that worked.
  const retried = grantRow("scheduled", { attempts: 1, lastError: "connection refused" });

  it("starts the hour from when the connector was asked, keeps the receipt and the sealed secret", () => {
    // The clock has moved on since the connector was asked: the access still lasts from ASKED_AT.
    const result = run(
      retried,
      { type: "activated", activatedAt: ASKED_AT, receipt: RECEIPT, sealedSecret: "sealed:v1:abc" },
      new Date("2026-03-01T12:06:00.000Z"),
    );
    const expiresAt = new Date("2026-03-01T13:05:00.000Z");
    expect(result.patch).toStrictEqual({
      status: "active",
      activatedAt: ASKED_AT,
      expiresAt,
      receipt: RECEIPT,
      sealedSecret: "sealed:v1:abc",
      attempts: 2,
      lastError: null,
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "grant.activated",
          actorId: null,
          requestId: "req-1",
          grantId: "grant-1",
          data: {
            principal: "alice_ro",
            connectorName: "postgres",
            expiresAt: "2026-03-01T13:05:00.000Z",
            receipt: RECEIPT,
            issuedCredentials: true,
          },
        },
      },
      { kind: "schedule_revoke", grantId: "grant-1", at: expiresAt },
      { kind: "notify_grant", notice: "grant.activated" },
    ]);
  });

  it("without credentials: no sealed secret, and the audit row says none were issued", () => {
    const result = run(grantRow("scheduled"), {
      type: "activated",
      activatedAt: ACTIVATED,
      receipt: { role: "alice_ro" },
      sealedSecret: null,
    });
    expect(result.patch).toStrictEqual({
      status: "active",
      activatedAt: ACTIVATED,
      expiresAt: EXPIRES,
      receipt: { role: "alice_ro" },
      sealedSecret: null,
      attempts: 1,
      lastError: null,
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "grant.activated",
          actorId: null,
          requestId: "req-1",
          grantId: "grant-1",
          data: {
            principal: "alice_ro",
            connectorName: "postgres",
            expiresAt: "2026-03-01T13:00:00.000Z",
            receipt: { role: "alice_ro" },
            issuedCredentials: false,
          },
        },
      },
      { kind: "schedule_revoke", grantId: "grant-1", at: EXPIRES },
      { kind: "notify_grant", notice: "grant.activated" },
    ]);
  });

  it("the sealed secret never reaches the audit row", () => {
    const result = run(retried, {
      type: "activated",
      activatedAt: ASKED_AT,
      receipt: RECEIPT,
      sealedSecret: "sealed:v1:abc",
    });
    expect(JSON.stringify(result.effects)).not.toContain("sealed:v1:abc");
  });

  it("expiryFrom is activation time plus the grant's duration", () => {
    expect(expiryFrom({ durationSeconds: 90 }, ACTIVATED)).toStrictEqual(new Date("2026-03-01T12:01:30.000Z"));
    expect(expiryFrom({ durationSeconds: HOUR }, ASKED_AT)).toStrictEqual(new Date("2026-03-01T13:05:00.000Z"));
  });
});

// ---------------------------------------------------------------------------------------------
// revoke
// ---------------------------------------------------------------------------------------------

describe("revoke", () => {
  it("relinquished by the holder: revoking, who asked, audited, and the revoke job due now", () => {
    const result = run(grantRow("active"), { type: "revoke", cause: "relinquished", actorId: "alice" });
    expect(result.patch).toStrictEqual({ status: "revoking", revokeReason: "relinquished", revokedById: "alice" });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "grant.revoke_requested",
          actorId: "alice",
          requestId: "req-1",
          grantId: "grant-1",
          data: { cause: "relinquished", reason: null },
        },
      },
      // `at` in the past means now.
      { kind: "schedule_revoke", grantId: "grant-1", at: new Date(0) },
    ]);
  });

  it("by an admin with a reason: the reason is kept after the cause", () => {
    const result = run(grantRow("active"), { type: "revoke", cause: "admin", actorId: "root", reason: "laptop lost" });
    expect(result.patch).toStrictEqual({ status: "revoking", revokeReason: "admin: laptop lost", revokedById: "root" });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "grant.revoke_requested",
          actorId: "root",
          requestId: "req-1",
          grantId: "grant-1",
          data: { cause: "admin", reason: "laptop lost" },
        },
      },
      { kind: "schedule_revoke", grantId: "grant-1", at: new Date(0) },
    ]);
  });

  it("by an admin without a reason", () => {
    const result = run(grantRow("active"), { type: "revoke", cause: "admin", actorId: "root" });
    expect(result.patch).toStrictEqual({ status: "revoking", revokeReason: "admin", revokedById: "root" });
  });

  it("the schedule_revoke of an asked-for revoke is due at once", () => {
    const result = run(grantRow("active"), { type: "revoke", cause: "relinquished", actorId: "alice" });
    const schedule = result.effects.find((effect) => effect.kind === "schedule_revoke");
    expect(schedule?.kind === "schedule_revoke" && schedule.at.getTime() <= NOW.getTime()).toBe(true);
  });

  it("a cancelled request's scheduled grant still goes through revoking, so the connector cleans up", () => {
    const result = run(grantRow("scheduled"), { type: "revoke", cause: "request_cancelled", actorId: "alice" });
    expect(result.patch).toStrictEqual({
      status: "revoking",
      revokeReason: "request_cancelled",
      revokedById: "alice",
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "grant.revoke_requested",
          actorId: "alice",
          requestId: "req-1",
          grantId: "grant-1",
          data: { cause: "request_cancelled", reason: null },
        },
      },
      { kind: "schedule_revoke", grantId: "grant-1", at: new Date(0) },
    ]);
  });

  it("a revoke without an actor records nobody", () => {
    const result = run(grantRow("active"), { type: "revoke", cause: "request_cancelled" });
    expect(result.patch).toStrictEqual({ status: "revoking", revokeReason: "request_cancelled", revokedById: null });
    expect(result.effects[0]).toStrictEqual({
      kind: "audit",
      event: {
        type: "grant.revoke_requested",
        actorId: null,
        requestId: "req-1",
        grantId: "grant-1",
        data: { cause: "request_cancelled", reason: null },
      },
    });
  });

  it("an admin may revoke a grant whose revoke failed: it is tried again, for the admin's reason", () => {
    const result = run(grantRow("revoke_failed"), { type: "revoke", cause: "admin", actorId: "root", reason: "now" });
    expect(result.patch).toStrictEqual({ status: "revoking", revokeReason: "admin: now", revokedById: "root" });
    expect(result.effects.map((effect) => effect.kind)).toStrictEqual(["audit", "schedule_revoke"]);
  });

  describe("cause expired (the grant's own end, or a retry)", () => {
    it("an active grant begins revoking as expired, with nothing else to do", () => {
      const result = run(grantRow("active"), { type: "revoke", cause: "expired" }, AFTER_EXPIRY);
      expect(result.patch).toStrictEqual({ status: "revoking", revokeReason: "expired" });
      expect(result.effects).toStrictEqual([]);
    });

    it("a failed revoke retried keeps why it was being revoked", () => {
      const failed = grantRow("revoke_failed", { revokeReason: "relinquished", revokedById: "alice" });
      const result = run(failed, { type: "revoke", cause: "expired" });
      expect(result.patch).toStrictEqual({ status: "revoking", revokeReason: "relinquished" });
      expect(result.effects).toStrictEqual([]);
    });

    it("a failed revoke without a recorded reason is marked as a retry", () => {
      const result = run(grantRow("revoke_failed", { revokeReason: null }), { type: "revoke", cause: "expired" });
      expect(result.patch).toStrictEqual({ status: "revoking", revokeReason: "retry" });
      expect(result.effects).toStrictEqual([]);
    });
  });

  const causes: RevokeCause[] = ["expired", "relinquished", "admin", "request_cancelled"];

  it.each((["revoking", "revoked"] as const).flatMap((status) => causes.map((cause) => ({ status, cause }))))(
    "asking again ($cause) while $status changes nothing",
    ({ status, cause }) => {
      const result = run(grantRow(status), { type: "revoke", cause, actorId: "root", reason: "again" });
      expect(result).toBe(NO_CHANGE);
      expect(result).toStrictEqual({ patch: {}, effects: [] });
    },
  );

  it("NO_CHANGE cannot be changed by whoever receives it", () => {
    expect(Object.isFrozen(NO_CHANGE)).toBe(true);
  });

  it("a grant that failed was never active and cannot be revoked", () => {
    const error = refused(grantRow("grant_failed"), { type: "revoke", cause: "admin", actorId: "root" }, "conflict");
    expect(error.userMessage).toBe("This grant failed and was never active.");
  });
});

// ---------------------------------------------------------------------------------------------
// revoked
// ---------------------------------------------------------------------------------------------

describe("revoked", () => {
  it("from revoking: revoked now, the attempt counted, the last error cleared, who asked audited", () => {
    const revoking = grantRow("revoking", {
      revokeReason: "relinquished",
      revokedById: "alice",
      attempts: 2,
      lastError: "timeout",
    });
    const result = run(revoking, { type: "revoked", retainedByOtherGrants: false });
    expect(result.patch).toStrictEqual({ status: "revoked", revokedAt: NOW, lastError: null, attempts: 3 });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "grant.revoked",
          actorId: "alice",
          requestId: "req-1",
          grantId: "grant-1",
          data: { principal: "alice_ro", reason: "relinquished", retainedByOtherGrants: false },
        },
      },
      { kind: "notify_grant", notice: "grant.revoked" },
    ]);
  });

  it("when another grant still holds the same access, the audit row says so (invariant 6)", () => {
    const result = run(grantRow("revoking"), { type: "revoked", retainedByOtherGrants: true }, AFTER_EXPIRY);
    expect(result.patch).toStrictEqual({ status: "revoked", revokedAt: AFTER_EXPIRY, lastError: null, attempts: 2 });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "grant.revoked",
          actorId: null,
          requestId: "req-1",
          grantId: "grant-1",
          data: { principal: "alice_ro", reason: "expired", retainedByOtherGrants: true },
        },
      },
      { kind: "notify_grant", notice: "grant.revoked" },
    ]);
  });

  it("from revoke_failed: a retried revoke that finally works", () => {
    const failed = grantRow("revoke_failed", { attempts: 5, lastError: "connection refused" });
    const result = run(failed, { type: "revoked", retainedByOtherGrants: false });
    expect(result.patch).toStrictEqual({ status: "revoked", revokedAt: NOW, lastError: null, attempts: 6 });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "grant.revoked",
          actorId: null,
          requestId: "req-1",
          grantId: "grant-1",
          data: { principal: "alice_ro", reason: "expired", retainedByOtherGrants: false },
        },
      },
      { kind: "notify_grant", notice: "grant.revoked" },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// attempt_failed
// ---------------------------------------------------------------------------------------------

describe("attempt_failed", () => {
  describe("grant", () => {
    it("a failed attempt that will be retried counts it and keeps the error", () => {
      const result = run(grantRow("scheduled"), {
        type: "attempt_failed",
        operation: "grant",
        error: "connection refused",
        final: false,
      });
      expect(result.patch).toStrictEqual({ attempts: 1, lastError: "connection refused" });
      expect(result.effects).toStrictEqual([]);
    });

    it("the last attempt fails the grant: audited, its leftovers undone, someone alerted", () => {
      const result = run(grantRow("scheduled", { attempts: 4, lastError: "timeout" }), {
        type: "attempt_failed",
        operation: "grant",
        error: "connection refused",
        final: true,
      });
      expect(result.patch).toStrictEqual({ status: "grant_failed", attempts: 5, lastError: "connection refused" });
      expect(result.effects).toStrictEqual([
        {
          kind: "audit",
          event: {
            type: "grant.failed",
            actorId: null,
            requestId: "req-1",
            grantId: "grant-1",
            data: { error: "connection refused", attempts: 5, alert: true },
          },
        },
        { kind: "undo_failed_grant", grantId: "grant-1" },
        { kind: "alert", message: "Granting grant-1 failed for good: connection refused", grantId: "grant-1" },
      ]);
    });

    it("a grant revoked while its activation was failing stays revoking (the revoke cleans up)", () => {
      const result = run(grantRow("revoking", { activatedAt: null, receipt: null, attempts: 2 }), {
        type: "attempt_failed",
        operation: "grant",
        error: "connection refused",
        final: true,
      });
      expect(result.patch).toStrictEqual({ attempts: 3, lastError: "connection refused" });
      expect(result.effects).toStrictEqual([]);
    });
  });

  describe("revoke", () => {
    it("a failed attempt that will be retried counts it and keeps the error", () => {
      const result = run(grantRow("revoking"), {
        type: "attempt_failed",
        operation: "revoke",
        error: "timeout",
        final: false,
      });
      expect(result.patch).toStrictEqual({ attempts: 2, lastError: "timeout" });
      expect(result.effects).toStrictEqual([]);
    });

    it("the last attempt of a revoking grant fails the revoke, keeps its reason and alerts", () => {
      const revoking = grantRow("revoking", { revokeReason: "admin: laptop lost", revokedById: "root", attempts: 4 });
      const result = run(revoking, { type: "attempt_failed", operation: "revoke", error: "timeout", final: true });
      expect(result.patch).toStrictEqual({
        status: "revoke_failed",
        attempts: 5,
        lastError: "timeout",
        revokeReason: "admin: laptop lost",
      });
      expect(result.effects).toStrictEqual([
        {
          kind: "audit",
          event: {
            type: "grant.revoke_failed",
            actorId: null,
            requestId: "req-1",
            grantId: "grant-1",
            data: { error: "timeout", attempts: 5, alert: true },
          },
        },
        {
          kind: "alert",
          message: "Revoking grant-1 keeps failing; access may still be live: timeout",
          grantId: "grant-1",
        },
      ]);
    });

    it("an active grant past its expiry fails its revoke as expired", () => {
      const result = run(
        grantRow("active"),
        { type: "attempt_failed", operation: "revoke", error: "timeout", final: true },
        AFTER_EXPIRY,
      );
      expect(result.patch).toStrictEqual({
        status: "revoke_failed",
        attempts: 2,
        lastError: "timeout",
        revokeReason: "expired",
      });
      expect(result.effects).toStrictEqual([
        {
          kind: "audit",
          event: {
            type: "grant.revoke_failed",
            actorId: null,
            requestId: "req-1",
            grantId: "grant-1",
            data: { error: "timeout", attempts: 2, alert: true },
          },
        },
        {
          kind: "alert",
          message: "Revoking grant-1 keeps failing; access may still be live: timeout",
          grantId: "grant-1",
        },
      ]);
    });

    it("an active grant an extension moved on is not failed (its revoke is no longer due)", () => {
      const result = run(grantRow("active"), {
        type: "attempt_failed",
        operation: "revoke",
        error: "timeout",
        final: true,
      });
      expect(result.patch).toStrictEqual({ attempts: 2, lastError: "timeout" });
      expect(result.effects).toStrictEqual([]);
    });

    it("a revoke_failed grant failing again gets no second alert", () => {
      const failed = grantRow("revoke_failed", { attempts: 5 });
      for (const final of [false, true]) {
        const result = run(failed, { type: "attempt_failed", operation: "revoke", error: "still down", final });
        expect(result.patch).toStrictEqual({ attempts: 6, lastError: "still down" });
        expect(result.effects).toStrictEqual([]);
      }
    });
  });

  describe("cleanup", () => {
    it.each([false, true])("a failed clean-up (final: %s) is counted and says what it was", (final) => {
      const failed = grantRow("grant_failed", { attempts: 5, lastError: "connection refused" });
      const result = run(failed, { type: "attempt_failed", operation: "cleanup", error: "role is in use", final });
      expect(result.patch).toStrictEqual({
        attempts: 6,
        lastError: "cleanup after the failed grant: role is in use",
      });
      expect(result.effects).toStrictEqual([]);
    });
  });

  it("a revoked grant takes no more failures", () => {
    refused(
      grantRow("revoked"),
      { type: "attempt_failed", operation: "revoke", error: "late", final: true },
      "conflict",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// cleaned_up
// ---------------------------------------------------------------------------------------------

describe("cleaned_up", () => {
  const failed = grantRow("grant_failed", { attempts: 5 });

  it("marks the failed grant's leftovers taken back, once", () => {
    const result = run(failed, { type: "cleaned_up", retainedByOtherGrants: false });
    expect(result.patch).toStrictEqual({ revokedAt: NOW });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "grant.failed_cleanup",
          actorId: null,
          requestId: "req-1",
          grantId: "grant-1",
          data: { principal: "alice_ro", retainedByOtherGrants: false },
        },
      },
    ]);
  });

  it("says when another grant still holds the same access", () => {
    const result = run(failed, { type: "cleaned_up", retainedByOtherGrants: true });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "grant.failed_cleanup",
          actorId: null,
          requestId: "req-1",
          grantId: "grant-1",
          data: { principal: "alice_ro", retainedByOtherGrants: true },
        },
      },
    ]);
  });

  it("a second clean-up is refused", () => {
    const cleaned = { ...failed, revokedAt: NOW };
    const error = refused(cleaned, { type: "cleaned_up", retainedByOtherGrants: false }, "conflict");
    expect(error.userMessage).toBe("This failed grant was already cleaned up.");
  });
});

// ---------------------------------------------------------------------------------------------
// extend
// ---------------------------------------------------------------------------------------------

describe("extend", () => {
  const active = grantRow("active");
  const extend = (additionalSeconds: number, maxTotalSeconds = 4 * HOUR): GrantEvent => ({
    type: "extend",
    additionalSeconds,
    maxTotalSeconds,
    byRequestId: "req-2",
  });

  it("moves the expiry, at the target too, moves the revoke job and tells the holder", () => {
    const result = run(active, extend(HOUR));
    const expiresAt = new Date("2026-03-01T14:00:00.000Z");
    expect(result.patch).toStrictEqual({ expiresAt });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "grant.extended",
          actorId: null,
          requestId: "req-1",
          grantId: "grant-1",
          data: {
            previousExpiresAt: "2026-03-01T13:00:00.000Z",
            expiresAt: "2026-03-01T14:00:00.000Z",
            byRequest: "req-2",
          },
        },
      },
      { kind: "extend_at_target", grantId: "grant-1", expiresAt },
      { kind: "schedule_revoke", grantId: "grant-1", at: expiresAt },
      { kind: "notify_grant", notice: "grant.extended" },
    ]);
  });

  it("up to exactly the maximum in total, counted from activation", () => {
    expect(run(active, extend(3 * HOUR)).patch).toStrictEqual({ expiresAt: new Date("2026-03-01T16:00:00.000Z") });
  });

  it("past the maximum in total is refused, saying how much is left", () => {
    const error = refused(active, extend(4 * HOUR), "invalid_input");
    expect(error.userMessage).toBe(
      "That extension would make this grant last 5h; the maximum in total is 4h, so you can extend by at most 3h.",
    );
    expect(error.details).toStrictEqual({ field: "duration", maxTotalSeconds: 4 * HOUR });
  });

  it("once the maximum is reached, it says to make a new request", () => {
    const atMax = grantRow("active", { expiresAt: new Date("2026-03-01T16:00:00.000Z") });
    const error = refused(atMax, extend(1800), "invalid_input");
    expect(error.userMessage).toBe(
      "That extension would make this grant last 4h30m; the maximum in total is 4h, and it has been reached. Make a new request instead.",
    );
  });

  it("an extension that ends no later than now or the current expiry is refused", () => {
    expect(refused(active, extend(0), "invalid_input").userMessage).toBe(
      "An extension must end later than the current expiry.",
    );
    // Overdue (its revoke has not run yet): an extension that still ends in the past gives nothing.
    const overdue = grantRow("active", {
      activatedAt: new Date("2026-03-01T10:00:00.000Z"),
      expiresAt: new Date("2026-03-01T11:00:00.000Z"),
    });
    expect(refused(overdue, extend(HOUR), "invalid_input").userMessage).toBe(
      "An extension must end later than the current expiry.",
    );
    expect(run(overdue, extend(2 * HOUR)).patch).toStrictEqual({ expiresAt: new Date("2026-03-01T13:00:00.000Z") });
  });

  it("extendedExpiry counts from startsAt when the grant has no activation time", () => {
    const grant = { activatedAt: null, startsAt: ACTIVATED, expiresAt: EXPIRES };
    expect(extendedExpiry(grant, HOUR, 2 * HOUR)).toStrictEqual(new Date("2026-03-01T14:00:00.000Z"));
    expect(() => extendedExpiry(grant, HOUR + 1, 2 * HOUR)).toThrow(AppError);
  });
});

// ---------------------------------------------------------------------------------------------
// receipt_updated
// ---------------------------------------------------------------------------------------------

describe("receipt_updated", () => {
  it("keeps what revoke now needs, and the new sealed secret", () => {
    const result = run(grantRow("active"), {
      type: "receipt_updated",
      receipt: { role: "alice_ro", validUntil: "2026-03-01T14:00:00.000Z" },
      sealedSecret: "sealed:v1:new",
    });
    expect(result.patch).toStrictEqual({
      receipt: { role: "alice_ro", validUntil: "2026-03-01T14:00:00.000Z" },
      sealedSecret: "sealed:v1:new",
    });
    expect(result.effects).toStrictEqual([]);
  });

  it("without a new secret leaves the sealed one alone", () => {
    const result = run(grantRow("active"), { type: "receipt_updated", receipt: { role: "alice_ro" } });
    expect(result.patch).toStrictEqual({ receipt: { role: "alice_ro" } });
    expect(result.effects).toStrictEqual([]);
  });

  it("a grant that is being revoked keeps the receipt its revoke reads", () => {
    refused(grantRow("revoking"), { type: "receipt_updated", receipt: { role: "x" } }, "conflict");
  });
});

// ---------------------------------------------------------------------------------------------
// revokeStage
// ---------------------------------------------------------------------------------------------

describe("revokeStage", () => {
  it("an active grant is not due before its expiry and begins at it", () => {
    expect(revokeStage(grantRow("active"), NOW)).toBe("not_due");
    expect(revokeStage(grantRow("active"), new Date(EXPIRES.getTime() - 1))).toBe("not_due");
    expect(revokeStage(grantRow("active"), EXPIRES)).toBe("begin");
    expect(revokeStage(grantRow("active"), AFTER_EXPIRY)).toBe("begin");
  });

  it.each([
    { status: "revoking", stage: "in_progress" },
    { status: "revoke_failed", stage: "retry" },
    { status: "scheduled", stage: "none" },
    { status: "revoked", stage: "none" },
    { status: "grant_failed", stage: "none" },
  ] as const)("a $status grant is $stage, before and long after its expiry", ({ status, stage }) => {
    expect(revokeStage(grantRow(status), NOW)).toBe(stage);
    expect(revokeStage(grantRow(status), new Date(EXPIRES.getTime() + 86_400_000))).toBe(stage);
  });
});
