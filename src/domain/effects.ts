import type { DecisionRow, EscalationEntry } from "./access-request.js";
import type { AuditInput } from "./audit-event.js";
import type { NewGrant } from "./grant.js";

/**
 * What a transition asks for, as data. The machines decide; `services/effects.ts` is the one place
 * that carries effects out: in-transaction ones with the state change they belong to (so they
 * commit or roll back together), after-commit ones once it is durable. A crash between commit and
 * an after-commit effect is repaired by the sweeper, never by hoping.
 */

export type InTransactionEffect =
  | { kind: "record_decision"; requestId: string; decision: Omit<DecisionRow, "createdAt"> }
  /** The grant an approval creates; its id is chosen by the machine so later effects can name it. */
  | { kind: "create_grant"; grant: NewGrant & { id: string } }
  /** An approved extension moves its grant's expiry (the grant machine decides how). */
  | { kind: "extend_grant"; grantId: string; requestId: string; additionalSeconds: number; maxTotalSeconds: number }
  | { kind: "audit"; event: AuditInput }
  /** An approved action request: its single run, queued. */
  | { kind: "create_action_run"; requestId: string; runId: string };

export type RequestNotice =
  | "request.submitted"
  | "request.step_advanced"
  | "request.approval_recorded"
  | "request.decided"
  | "request.break_glass"
  | "request.reviewed";

export type GrantNotice = "grant.activated" | "grant.revoked" | "grant.extended";

export type AfterCommitEffect =
  | { kind: "enqueue_activation"; grantId: string }
  /** Creates or moves the delayed revoke job; `at` in the past means now. */
  | { kind: "schedule_revoke"; grantId: string; at: Date }
  | { kind: "schedule_request_expiry"; requestId: string; at: Date }
  | { kind: "schedule_escalation"; requestId: string; step: number; at: Date }
  /** Tell people about the request or grant as it was saved by this transition. */
  | { kind: "notify_request"; notice: RequestNotice }
  | { kind: "notify_escalated"; entry: EscalationEntry }
  /** A remind step: the pending approvers get a message they are notified of (an edited card is not). */
  | { kind: "remind_approvers"; step: number }
  | { kind: "notify_grant"; notice: GrantNotice }
  | { kind: "resolve_pages"; requestId: string; sources: string[] }
  /** A break-glass grant happened: page on-call and tell security (then the request records the page). */
  | { kind: "raise_break_glass_alarm"; requestId: string }
  /** Connectors that enforce an expiry on the target learn the new one. */
  | { kind: "extend_at_target"; grantId: string; expiresAt: Date }
  /** A grant failed for good: take back whatever part of it reached the target. */
  | { kind: "undo_failed_grant"; grantId: string }
  | { kind: "alert"; message: string; grantId?: string; requestId?: string }
  | { kind: "enqueue_action_run"; requestId: string };

export type Effect = InTransactionEffect | AfterCommitEffect;

/** The result of a transition: the fields to save (with the version check) and what else must happen. */
export interface Transition<Patch> {
  patch: Patch;
  effects: Effect[];
}

const IN_TRANSACTION: ReadonlySet<Effect["kind"]> = new Set([
  "record_decision",
  "create_grant",
  "extend_grant",
  "audit",
  "create_action_run",
]);

export const isInTransaction = (effect: Effect): effect is InTransactionEffect => IN_TRANSACTION.has(effect.kind);
