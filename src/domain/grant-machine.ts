import { AppError } from "./errors.js";

/**
 * The grant state machine: scheduled → active → revoking → revoked, with grant_failed and
 * revoke_failed as visible failure states. revoke_failed can be retried; grant_failed is final.
 */

export type GrantStatus = "scheduled" | "active" | "revoking" | "revoked" | "grant_failed" | "revoke_failed";

export interface GrantState {
  status: GrantStatus;
  version: number;
  expiresAt: Date;
}

export type RevokeCause = "expired" | "relinquished" | "admin" | "request_cancelled";

export type GrantEvent =
  | { type: "activated" }
  | { type: "activation_failed" }
  | { type: "revoke"; cause: RevokeCause }
  | { type: "revoked" }
  | { type: "revoke_failed" }
  | { type: "extend"; expiresAt: Date };

const ALLOWED: Record<GrantEvent["type"], readonly GrantStatus[]> = {
  activated: ["scheduled"],
  activation_failed: ["scheduled"],
  revoke: ["scheduled", "active", "revoke_failed", "revoking"],
  revoked: ["revoking"],
  revoke_failed: ["revoking"],
  extend: ["active"],
};

const USER_MESSAGE: Partial<Record<GrantStatus, string>> = {
  revoked: "This grant has already been revoked.",
  revoking: "This grant is being revoked.",
  grant_failed: "This grant failed and was never active.",
  scheduled: "This grant is not active yet.",
};

export function canApply(state: GrantState, event: GrantEvent): boolean {
  return ALLOWED[event.type].includes(state.status);
}

export function transitionGrant(state: GrantState, event: GrantEvent, now: Date): GrantState {
  if (!canApply(state, event)) {
    throw new AppError(
      "conflict",
      USER_MESSAGE[state.status] ?? `A grant that is ${state.status} cannot be changed that way.`,
      {
        internal: `grant event ${event.type} not allowed in status ${state.status}`,
        details: { status: state.status },
      },
    );
  }
  const version = state.version + 1;
  switch (event.type) {
    case "activated":
      return { ...state, status: "active", version };
    case "activation_failed":
      return { ...state, status: "grant_failed", version };
    case "revoke":
      // Even a scheduled grant goes through revoking: an activation attempt may have reached the
      // target before its transaction failed, so the connector is always asked to take it back.
      return { ...state, status: "revoking", version };
    case "revoked":
      return { ...state, status: "revoked", version };
    case "revoke_failed":
      return { ...state, status: "revoke_failed", version };
    case "extend":
      if (event.expiresAt.getTime() <= Math.max(state.expiresAt.getTime(), now.getTime())) {
        throw new AppError("invalid_input", "An extension must end later than the current expiry.");
      }
      return { ...state, expiresAt: event.expiresAt, version };
  }
}

/** A grant is due for revocation once its expiry has passed. */
export const isDue = (state: GrantState, now: Date): boolean =>
  state.status === "active" && state.expiresAt.getTime() <= now.getTime();
