import type { Connector } from "../connectors/connector.js";
import type { EscalationEntry, RequestRow, RequestStatus } from "../domain/access-request.js";
import type { ActionOutcome, ActionSpec } from "../domain/actions/action-run.js";
import type { GrantChange, GrantRow } from "../domain/grant.js";

/**
 * What the services need from the outside world. Storage, jobs and connectors implement these;
 * the services never import Prisma, BullMQ or a chat SDK.
 */

export type * from "./store-ports.js";

export interface JobScheduler {
  enqueueActivation(grantId: string): Promise<void>;
  /**
   * Makes the delayed job `revoke-<grantId>` exist and fire no later than `at` (now if in the
   * past); a job due earlier stays as it is (its worker finds the grant not due and waits again).
   */
  scheduleRevoke(grantId: string, at: Date): Promise<void>;
  /**
   * scheduleRevoke for many grants in a few round trips (the sweeper's page); returns how many
   * revoke jobs were missing and had to be added.
   */
  ensureRevokeJobs(revokes: readonly { grantId: string; at: Date }[]): Promise<number>;
  /** Whether the grant's revoke job is waiting, delayed or running. */
  hasRevokeJob(grantId: string): Promise<boolean>;
  scheduleRequestExpiry(requestId: string, at: Date): Promise<void>;
  /** The delayed job `escalate-<requestId>-<step>`; it does nothing if the request was decided meanwhile. */
  scheduleEscalation(requestId: string, step: number, at: Date): Promise<void>;
}

export interface ConnectorProvider {
  get(name: string): Connector;
  /**
   * Grants with equal keys hold the same access, so only the last one to end may remove it. Built
   * from the connector, the normalised target and the principal; unique per call for connectors
   * that keep every grant apart.
   */
  entitlementKeyFor(connectorName: string, target: Record<string, unknown>, principal: string): string;
}

/** Runs one approved action on its target (issue 14); never throws for a failure of the action itself. */
export interface ActionExecutor {
  /**
   * Optional: why this executor would refuse to run the action here (e.g. a namespace outside the
   * connector's allowed ones), or null. Asked at submission so nobody approves what cannot run;
   * `run` checks again.
   */
  admit?(input: { connectorName: string; target: Record<string, unknown>; spec: ActionSpec }): string | null;
  run(input: {
    connectorName: string;
    target: Record<string, unknown>;
    spec: ActionSpec;
    /** When the run was claimed (the time a Kubernetes rollout restart is stamped with). */
    startedAt: Date;
    /** Who and what the run is, for executors that hand it on (a webhook runner logs and dedupes by run id). */
    run: ActionRunIdentity;
  }): Promise<ActionOutcome>;
}

export interface ActionRunIdentity {
  requestId: string;
  runId: string;
  requesterId: string;
  /** The people whose approvals let it run (none when the policy approved it by itself). */
  approverIds: string[];
}

export interface SecretBox {
  seal(secret: Record<string, string>): string;
  open(sealed: string): Record<string, string>;
}

export type Notification =
  | { type: "request.submitted"; request: RequestRow }
  | { type: "request.step_advanced"; request: RequestRow }
  /** The escalation ladder took a step (reminded, re-routed, paged): cards and the requester show it. */
  | { type: "request.escalated"; request: RequestRow; entry: EscalationEntry }
  /** A remind step of the ladder (`step`): each pending approver gets one message they are notified of. */
  | { type: "request.reminder"; request: RequestRow; step: number }
  /** A break-glass request was granted at once: security is told and approvers get a review card. */
  | { type: "request.break_glass"; request: RequestRow }
  | { type: "request.reviewed"; request: RequestRow }
  /** An approval was recorded but the step still needs more (N of M): cards show the new count. */
  | { type: "request.approval_recorded"; request: RequestRow }
  | { type: "request.decided"; request: RequestRow }
  /** An action's single run ended (succeeded, failed, unknown): the requester is told, cards show it. */
  | { type: "action.finished"; request: RequestRow }
  | { type: "grant.activated"; grant: GrantRow }
  | { type: "grant.revoked"; grant: GrantRow }
  | { type: "grant.extended"; grant: GrantRow }
  /** Incident access offered to an assignee (`grant: offer`): they get a one-click card. */
  | { type: "incident.offered"; offerId: string; personId: string }
  | { type: "alert"; message: string; grantId?: string; requestId?: string };

/**
 * Grant changes as they commit, in this process and the others (src/jobs/grant-changes.ts). A
 * change may be heard late or not at all (a process died after its commit, Redis was away):
 * listeners read the database again now and then.
 */
export interface GrantChangeListeners {
  /** Tells `listener` of every change heard from now on; returns what stops it. */
  listen(listener: GrantChangeListener): () => void;
}

export interface GrantChangeListener {
  changed(changes: readonly GrantChange[]): void;
  /** Changes may have gone unheard until now (the subscription just started or came back): read again. */
  missed?(): void;
}

export interface Notifier {
  publish(notification: Notification): Promise<void>;
}

/**
 * Counts and timings for /metrics (src/metrics implements it). Cheap and synchronous; it never
 * throws. Labels never carry people, request or grant ids: only bounded names.
 */
export interface Metrics {
  /** A request (of a kind: access, extension) was submitted (`submitted`) or reached an end state. */
  requestOutcome(outcome: "submitted" | Exclude<RequestStatus, "pending">, kind: RequestRow["kind"]): void;
  /** Seconds from a request's creation to its decision (approved or denied). */
  requestDecided(seconds: number): void;
  /** Seconds from approval (or the grant's start, if later) to access active on the target. */
  grantActivated(seconds: number): void;
  /** Seconds from a grant's expiresAt to its access revoked on the target. */
  grantRevokedLate(seconds: number): void;
  connectorFailure(connector: string, operation: "grant" | "revoke" | "cleanup"): void;
  /** What one sweep repaired, by kind (the SweepReport's counts). */
  sweeperRepairs(kind: string, count: number): void;
  /** A chat message delivered, retried or failed for good. */
  chatDelivery(platform: string, outcome: "delivered" | "retried" | "failed"): void;
  /** An action's single run ended (issue 14), by SQL class and outcome. */
  actionFinished?(actionClass: string, outcome: "succeeded" | "failed" | "unknown"): void;
}

export interface Logger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

/** One person on call for a source, as the provider reports them. */
export interface OnCallPerson {
  email: string;
  /** Escalation level (PagerDuty; 1 = primary); null when the provider has none (Opsgenie schedules). */
  level: number | null;
  /** When this shift ends; null when the provider gives no end. */
  until: Date | null;
}

export interface OnCallPage {
  /** Deterministic per request, so a retried trigger does not page twice and resolve finds it. */
  key: string;
  summary: string;
  severity: "critical" | "error" | "warning" | "info";
  details: Record<string, string>;
}

/**
 * Who is on call, and paging them, behind the policy's named sources (PagerDuty, Opsgenie, and
 * later Opsgenie's successor). Look-ups are cached briefly. Every method throws
 * `OnCallUnavailableError` when the provider cannot answer (down, timeout, not configured).
 */
export interface OnCallDirectory {
  whoIsOnCall(sourceName: string): Promise<OnCallPerson[]>;
  page(sourceName: string, page: OnCallPage): Promise<void>;
  resolvePage(sourceName: string, key: string): Promise<void>;
}
