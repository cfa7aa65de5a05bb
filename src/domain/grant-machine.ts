import { formatDuration } from "./duration.js";
import type { Effect, Transition } from "./effects.js";
import { AppError } from "./errors.js";
import type { GrantPatch, GrantRow, GrantStatus, RevokeCause } from "./grant.js";

/**
 * The grant state machine: scheduled → active → revoking → revoked, with grant_failed and
 * revoke_failed as visible failure states (revoke_failed is retried; grant_failed is final once its
 * leftovers are cleaned up). There is no scheduled → revoked edge: a scheduled grant is revoked
 * through revoking, because an interrupted activation may have reached the target. Pure: services
 * call `transitionGrant` and save the patch with the version check; `services/effects.ts` runs the
 * effects. Connector calls happen between two transitions, never inside one.
 */

export type GrantEvent =
  /** `activatedAt` is when the connector was asked: the access lasts its duration from then. */
  | { type: "activated"; activatedAt: Date; receipt: Record<string, unknown>; sealedSecret: string | null }
  /** A relinquish, an admin revoke, or the grant's own expiry. */
  | { type: "revoke"; cause: RevokeCause; actorId?: string; reason?: string }
  | { type: "revoked"; retainedByOtherGrants: boolean }
  /** A connector call failed; `final` when its retries are used up. */
  | { type: "attempt_failed"; operation: "grant" | "revoke" | "cleanup"; error: string; final: boolean }
  /** What a failed grant left on the target was taken back. */
  | { type: "cleaned_up"; retainedByOtherGrants: boolean }
  | { type: "extend"; additionalSeconds: number; maxTotalSeconds: number; byRequestId: string }
  /** The connector moved the expiry on the target and says what revoke now needs. */
  | { type: "receipt_updated"; receipt: Record<string, unknown>; sealedSecret?: string };

export type GrantTransition = Transition<GrantPatch>;

const ALLOWED: Record<GrantEvent["type"], readonly GrantStatus[]> = {
  activated: ["scheduled"],
  revoke: ["scheduled", "active", "revoke_failed", "revoking", "revoked"],
  // From revoke_failed too: a retried revoke keeps that status until it succeeds, so a retry
  // that fails again raises no second alert.
  revoked: ["revoking", "revoke_failed"],
  attempt_failed: ["scheduled", "active", "revoking", "revoke_failed", "grant_failed"],
  cleaned_up: ["grant_failed"],
  extend: ["active"],
  receipt_updated: ["active"],
};

const USER_MESSAGE: Partial<Record<GrantStatus, string>> = {
  revoked: "This grant has already been revoked.",
  revoking: "This grant is being revoked.",
  grant_failed: "This grant failed and was never active.",
  scheduled: "This grant is not active yet.",
};

export function canApply(grant: Pick<GrantRow, "status">, type: GrantEvent["type"]): boolean {
  return ALLOWED[type].includes(grant.status);
}

/** The statuses in which `type` may happen, for storage to check in the same statement that claims a grant. */
export function statusesAllowing(type: GrantEvent["type"]): readonly GrantStatus[] {
  return ALLOWED[type];
}

/**
 * Where an expiring (or retried) revoke stands: an active grant not yet due, one due to begin
 * revoking, a revoke under way, a failed revoke to retry, or nothing left to do.
 */
export function revokeStage(
  grant: Pick<GrantRow, "status" | "expiresAt">,
  now: Date,
): "not_due" | "begin" | "in_progress" | "retry" | "none" {
  switch (grant.status) {
    case "active":
      return grant.expiresAt.getTime() <= now.getTime() ? "begin" : "not_due";
    case "revoking":
      return "in_progress";
    case "revoke_failed":
      return "retry";
    default:
      return "none";
  }
}

export function transitionGrant(grant: GrantRow, event: GrantEvent, now: Date): GrantTransition {
  if (!canApply(grant, event.type))
    throw new AppError(
      "conflict",
      USER_MESSAGE[grant.status] ?? `A grant that is ${grant.status} cannot be changed that way.`,
      {
        internal: `grant event ${event.type} not allowed in status ${grant.status}`,
        details: { status: grant.status },
      },
    );
  switch (event.type) {
    case "activated":
      return activated(grant, event);
    case "revoke":
      return revoke(grant, event);
    case "revoked":
      return {
        patch: { status: "revoked", revokedAt: now, lastError: null, attempts: grant.attempts + 1 },
        effects: [
          audit(grant, "grant.revoked", grant.revokedById, {
            principal: grant.principal,
            reason: grant.revokeReason,
            retainedByOtherGrants: event.retainedByOtherGrants,
          }),
          { kind: "notify_grant", notice: "grant.revoked" },
        ],
      };
    case "attempt_failed":
      return attemptFailed(grant, event, now);
    case "cleaned_up":
      if (grant.revokedAt) throw new AppError("conflict", "This failed grant was already cleaned up.");
      return {
        patch: { revokedAt: now },
        effects: [
          audit(grant, "grant.failed_cleanup", null, {
            principal: grant.principal,
            retainedByOtherGrants: event.retainedByOtherGrants,
          }),
        ],
      };
    case "extend":
      return extend(grant, event, now);
    case "receipt_updated":
      return {
        patch: { receipt: event.receipt, ...(event.sealedSecret ? { sealedSecret: event.sealedSecret } : {}) },
        effects: [],
      };
  }
}

/** The expiry a grant gets when it is activated at `activatedAt`. */
export const expiryFrom = (grant: Pick<GrantRow, "durationSeconds">, activatedAt: Date): Date =>
  new Date(activatedAt.getTime() + grant.durationSeconds * 1000);

function activated(grant: GrantRow, event: Extract<GrantEvent, { type: "activated" }>): GrantTransition {
  const expiresAt = expiryFrom(grant, event.activatedAt);
  return {
    patch: {
      status: "active",
      activatedAt: event.activatedAt,
      expiresAt,
      receipt: event.receipt,
      sealedSecret: event.sealedSecret,
      attempts: grant.attempts + 1,
      lastError: null,
    },
    effects: [
      audit(grant, "grant.activated", null, {
        principal: grant.principal,
        connectorName: grant.connectorName,
        expiresAt: expiresAt.toISOString(),
        receipt: event.receipt,
        issuedCredentials: event.sealedSecret !== null,
      }),
      { kind: "schedule_revoke", grantId: grant.id, at: expiresAt },
      { kind: "notify_grant", notice: "grant.activated" },
    ],
  };
}

/** A transition that changes nothing: asking again for what is already under way. */
export const NO_CHANGE: GrantTransition = Object.freeze({
  patch: Object.freeze({}),
  effects: Object.freeze([]) as unknown as GrantTransition["effects"],
});

function revoke(grant: GrantRow, event: Extract<GrantEvent, { type: "revoke" }>): GrantTransition {
  // A second relinquish or admin revoke while one is under way or done asks for nothing new.
  if (grant.status === "revoking" || grant.status === "revoked") return NO_CHANGE;
  if (event.cause === "expired") {
    // The grant's own end (or a retry of a failed revoke): it keeps why it was being revoked.
    return {
      patch: {
        status: "revoking",
        revokeReason: grant.revokeReason ?? (grant.status === "active" ? "expired" : "retry"),
      },
      effects: [],
    };
  }
  const revokeReason = event.reason ? `${event.cause}: ${event.reason}` : event.cause;
  return {
    patch: { status: "revoking", revokeReason, revokedById: event.actorId ?? null },
    effects: [
      audit(grant, "grant.revoke_requested", event.actorId ?? null, {
        cause: event.cause,
        reason: event.reason ?? null,
      }),
      { kind: "schedule_revoke", grantId: grant.id, at: new Date(0) },
    ],
  };
}

function attemptFailed(
  grant: GrantRow,
  event: Extract<GrantEvent, { type: "attempt_failed" }>,
  now: Date,
): GrantTransition {
  const attempts = grant.attempts + 1;
  if (event.operation === "cleanup")
    return { patch: { attempts, lastError: `cleanup after the failed grant: ${event.error}` }, effects: [] };
  // An active grant fails its revoke only once it is due (an extension may have moved it on
  // meanwhile); a revoke_failed one that fails again stays as it is, without a second alert.
  const fails =
    event.operation === "grant"
      ? grant.status === "scheduled"
      : grant.status === "revoking" || revokeStage(grant, now) === "begin";
  if (!event.final || !fails) return { patch: { attempts, lastError: event.error }, effects: [] };
  if (event.operation === "grant") {
    const message = `Granting ${grant.id} failed for good: ${event.error}`;
    return {
      patch: { status: "grant_failed", attempts, lastError: event.error },
      effects: [
        audit(grant, "grant.failed", null, { error: event.error, attempts, alert: true }),
        { kind: "undo_failed_grant", grantId: grant.id },
        { kind: "alert", message, grantId: grant.id },
      ],
    };
  }
  return {
    // A grant that failed its revoke at expiry keeps why it was being revoked (the sweeper's retry reads it).
    patch: {
      status: "revoke_failed",
      attempts,
      lastError: event.error,
      revokeReason: grant.revokeReason ?? "expired",
    },
    effects: [
      audit(grant, "grant.revoke_failed", null, { error: event.error, attempts, alert: true }),
      {
        kind: "alert",
        message: `Revoking ${grant.id} keeps failing; access may still be live: ${event.error}`,
        grantId: grant.id,
      },
    ],
  };
}

/** The expiry an extension gives, refused when it passes the policy's maximum total. */
export function extendedExpiry(
  grant: Pick<GrantRow, "activatedAt" | "startsAt" | "expiresAt">,
  additionalSeconds: number,
  maxTotalSeconds: number,
): Date {
  const start = grant.activatedAt ?? grant.startsAt;
  const expiresAt = new Date(grant.expiresAt.getTime() + additionalSeconds * 1000);
  const totalSeconds = (expiresAt.getTime() - start.getTime()) / 1000;
  if (totalSeconds > maxTotalSeconds) {
    const left = Math.max(0, maxTotalSeconds - (grant.expiresAt.getTime() - start.getTime()) / 1000);
    throw new AppError(
      "invalid_input",
      `That extension would make this grant last ${formatDuration(totalSeconds)}; the maximum in total is ${formatDuration(maxTotalSeconds)}` +
        (left > 0
          ? `, so you can extend by at most ${formatDuration(left)}.`
          : ", and it has been reached. Make a new request instead."),
      { details: { field: "duration", maxTotalSeconds } },
    );
  }
  return expiresAt;
}

function extend(grant: GrantRow, event: Extract<GrantEvent, { type: "extend" }>, now: Date): GrantTransition {
  const expiresAt = extendedExpiry(grant, event.additionalSeconds, event.maxTotalSeconds);
  if (expiresAt.getTime() <= Math.max(grant.expiresAt.getTime(), now.getTime()))
    throw new AppError("invalid_input", "An extension must end later than the current expiry.");
  return {
    patch: { expiresAt },
    effects: [
      audit(grant, "grant.extended", null, {
        previousExpiresAt: grant.expiresAt.toISOString(),
        expiresAt: expiresAt.toISOString(),
        byRequest: event.byRequestId,
      }),
      { kind: "extend_at_target", grantId: grant.id, expiresAt },
      { kind: "schedule_revoke", grantId: grant.id, at: expiresAt },
      { kind: "notify_grant", notice: "grant.extended" },
    ],
  };
}

function audit(grant: GrantRow, type: string, actorId: string | null, data: Record<string, unknown>): Effect {
  return { kind: "audit", event: { type, actorId, requestId: grant.requestId, grantId: grant.id, data } };
}
