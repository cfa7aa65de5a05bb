import type { RequestRow, RequestStatus } from "../domain/access-request.js";
import type { GrantRow, GrantStatus } from "../domain/grant.js";
import type { Metrics } from "./ports.js";

/** The statuses a transaction found, before its transitions: what `observeChanges` compares the saved rows to. */
export interface StatusesBefore {
  /** null: the request was created in this transaction. */
  request?: RequestStatus | null;
  grant?: GrantStatus;
}

const seconds = (from: Date, to: Date) => Math.max(0, (to.getTime() - from.getTime()) / 1000);

/**
 * Counts a committed change for /metrics: request outcomes and decision time, approval → active,
 * and how late an expired grant's access was taken away. Runs after commit, so a rolled-back
 * transaction counts nothing; a status that did not change counts nothing either.
 */
export function observeChanges(
  metrics: Metrics | undefined,
  before: StatusesBefore | undefined,
  saved: { request?: RequestRow; grant?: GrantRow },
): void {
  if (!metrics || !before) return;
  const { request, grant } = saved;
  if (request && before.request !== undefined && before.request !== request.status) {
    if (before.request === null) metrics.requestOutcome("submitted", request.kind);
    if (request.status !== "pending") metrics.requestOutcome(request.status, request.kind);
    if ((request.status === "approved" || request.status === "denied") && request.decidedAt)
      metrics.requestDecided(seconds(request.createdAt, request.decidedAt));
  }
  if (grant && before.grant !== undefined && before.grant !== grant.status) {
    if (grant.status === "active" && grant.activatedAt) {
      const from = new Date(Math.max(grant.startsAt.getTime(), grant.createdAt.getTime()));
      metrics.grantActivated(seconds(from, grant.activatedAt));
    }
    if (grant.status === "revoked" && grant.revokedAt && grant.revokeReason?.startsWith("expired"))
      metrics.grantRevokedLate(seconds(grant.expiresAt, grant.revokedAt));
  }
}
