import type { Connector } from "../connectors/connector.js";
import type {
  DecisionRow,
  EscalationEntry,
  RequestPatch,
  RequestRow,
  RequestStatus,
} from "../domain/access-request.js";
import type { ActionResult, ActionRunPatch, ActionRunRow, ActionSpec } from "../domain/actions/action-run.js";
import type { AuditInput } from "../domain/audit-event.js";
import type { GrantPatch, GrantRow, GrantStatus, NewGrant } from "../domain/grant.js";

/**
 * What the services need from the outside world. Storage, jobs and connectors implement these;
 * the services never import Prisma, BullMQ or a chat SDK.
 */

export interface RequestFilter {
  /** Break-glass requests nobody has reviewed yet. */
  unreviewedBreakGlass?: boolean;
  status?: RequestStatus[];
  requesterId?: string;
  resourceId?: string;
  /** Only requests this person may see (`canSeeRequest` without admin rights). */
  viewerId?: string;
  /** Only requests waiting for this person's decision (`awaitsDecisionFrom`). */
  approverId?: string;
  pendingUntilBefore?: Date;
  limit?: number;
}

export interface GrantFilter {
  status?: GrantStatus[];
  subjectId?: string;
  resourceId?: string;
  expiresBefore?: Date;
  updatedBefore?: Date;
  /** Only grants with no `revokedAt` yet (for failed grants: their clean-up is still pending). */
  notRevokedYet?: boolean;
  /** Only grants a PagerDuty incident opened (their trigger names it). */
  incidentId?: string;
  limit?: number;
}

/** Where a grant stands in the sweeper's walk through grants by expiry. */
export interface GrantExpiry {
  id: string;
  expiresAt: Date;
  attempts: number;
}

/** A page of grants of one status in (expiresAt, id) order, after a cursor, up to a time. */
export interface ExpiryPageQuery {
  status: GrantStatus;
  /** The last grant of the previous page; the walk starts at the earliest expiry without it. */
  after?: Pick<GrantExpiry, "expiresAt" | "id">;
  /** Only grants expiring at or before this. */
  until?: Date;
  limit: number;
}

export interface StoreReader {
  getRequest(id: string): Promise<RequestRow | null>;
  listRequests(filter: RequestFilter): Promise<RequestRow[]>;
  getGrant(id: string): Promise<GrantRow | null>;
  getGrantByRequest(requestId: string): Promise<GrantRow | null>;
  listGrants(filter: GrantFilter): Promise<GrantRow[]>;
}

/** A claim on an entitlement while a connector call runs (see EntitlementLease in the schema). */
export interface EntitlementClaim {
  key: string;
  grantId: string;
  operation: "grant" | "revoke" | "cleanup";
  /** The process that holds it (ServiceDeps.instanceId); it renews its leases while it lives. */
  owner: string;
  /** Counted on the database's clock, like every lease, so clocks of several hosts never disagree. */
  ttlSeconds: number;
}

/** Action runs (issue 14): read anywhere, changed only inside a transaction. */
export interface ActionRunReads {
  getActionRun(requestId: string): Promise<ActionRunRow | null>;
  listStaleRunningActions(claimedBefore: Date, limit: number): Promise<ActionRunRow[]>;
  /** Approved runs nobody claimed since `createdBefore`. */
  listQueuedActions(createdBefore: Date, limit: number): Promise<ActionRunRow[]>;
}

export interface ActionRunWrites {
  createActionRun(run: { id: string; requestId: string }): Promise<void>;
  lockActionRun(requestId: string): Promise<ActionRunRow | null>;
  updateActionRun(current: ActionRunRow, patch: ActionRunPatch): Promise<ActionRunRow | null>;
}

export interface UnitOfWork extends StoreReader, ActionRunReads, ActionRunWrites {
  /** Row lock: other transactions touching this row wait until this one ends. */
  lockRequest(id: string): Promise<RequestRow | null>;
  lockGrant(id: string): Promise<GrantRow | null>;
  /** Inserts a request as the machine shaped it (already approved when a rule auto-approved it). */
  createRequest(row: RequestRow): Promise<void>;
  /** Saves a transition's patch; null when the version moved on (someone else changed the row first). */
  updateRequest(current: RequestRow, patch: RequestPatch): Promise<RequestRow | null>;
  addDecision(requestId: string, decision: Omit<DecisionRow, "createdAt">): Promise<void>;
  createGrant(data: NewGrant & { id: string }): Promise<GrantRow>;
  /** Saves a transition's patch; null when the version moved on. */
  updateGrant(current: GrantRow, patch: GrantPatch): Promise<GrantRow | null>;
  countOtherActiveHolders(entitlementKey: string, excludingGrantId: string): Promise<number>;
  /** Takes the entitlement's lease unless a live one is held (by anyone, this grant included); true when taken. */
  claimEntitlement(claim: EntitlementClaim): Promise<boolean>;
  /** Gives the lease back; only its owner's lease for that grant is removed. */
  releaseEntitlement(key: string, grantId: string, owner: string): Promise<void>;
  appendAudit(event: AuditInput): Promise<void>;
  // Batches: one statement each, whatever the number of grants (a burst of revokes).
  /** Row locks on several grants, taken in id order so two batches never deadlock; unknown ids are left out. */
  lockGrants(ids: readonly string[]): Promise<GrantRow[]>;
  /** updateGrant for several grants (each checked against its own version); null for each whose version moved on. */
  updateGrants(updates: readonly { current: GrantRow; patch: GrantPatch }[]): Promise<(GrantRow | null)[]>;
  /** claimEntitlement for several distinct entitlements; the ids of the grants whose claim was taken. */
  claimEntitlements(claims: readonly EntitlementClaim[]): Promise<Set<string>>;
  /** releaseEntitlement for several leases. */
  releaseEntitlements(releases: readonly { key: string; grantId: string; owner: string }[]): Promise<void>;
  /** Active grants per entitlement key (keys nobody holds are absent). */
  countActiveHolders(keys: readonly string[]): Promise<Map<string, number>>;
  /** Deletes up to `limit` requests (and their grants) that ended for good before `endedBefore`; how many. */
  deleteEndedRecords(endedBefore: Date, limit: number): Promise<number>;
  /** Deletes up to `limit` inbound events received before `before` and worked; how many. */
  deleteFinishedInboundEvents(before: Date, limit: number): Promise<number>;
  /** Deletes up to `limit` chat delivery claims made before `before`; how many. */
  deleteChatDeliveryClaims(before: Date, limit: number): Promise<number>;
}

export interface Store extends StoreReader, ActionRunReads {
  transaction<T>(work: (uow: UnitOfWork) => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
  /**
   * Takes or renews the named lease for `ttlSeconds` (on the database's clock) unless another
   * owner holds a live one; true when `owner` holds it now. A committed row, not a lock: nothing
   * stays open while the holder works.
   */
  takeNamedLease(name: string, owner: string, ttlSeconds: number): Promise<boolean>;
  /** Gives the named lease back, if `owner` still holds it. */
  releaseNamedLease(name: string, owner: string): Promise<void>;
  /** One page of the walk through grants by expiry (served by the index on status, expiresAt, id). */
  pageGrantsByExpiry(query: ExpiryPageQuery): Promise<GrantExpiry[]>;
  readSealedSecret(grantId: string): Promise<string | null>;
  /**
   * Pushes the expiry of the leases `owner` holds for these grants (the calls it is making)
   * `ttlSeconds` ahead: the owner's heartbeat; returns how many.
   */
  renewLeases(owner: string, ttlSeconds: number, grantIds: readonly string[]): Promise<number>;
  /**
   * One statement, no transaction left open: locks the grant if its status is one of `statuses`
   * and takes its entitlement's lease. Null when the status did not match; `claimed` false when a
   * live lease is held by someone else.
   */
  claimGrantForCall(
    grantId: string,
    statuses: readonly GrantStatus[],
    claim: Omit<EntitlementClaim, "key" | "grantId">,
  ): Promise<{
    grant: GrantRow;
    claimed: boolean;
    /** The lease found was an earlier `claim.operation` call on this grant that never recorded its outcome (its process died). */
    unfinishedBefore: boolean;
  } | null>;
  /** Drops every lease `owner` holds (a clean shutdown, once its work has finished). */
  releaseLeases(owner: string): Promise<void>;
  /** Grants in `statuses` that no live lease covers: work a dead process left half done. */
  listUnleasedGrants(statuses: GrantStatus[], options: { olderThan: Date; limit: number }): Promise<GrantRow[]>;
}

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
    startedAt?: Date;
    /** Who and what the run is, for executors that hand it on (a webhook runner logs and dedupes by run id). */
    run: ActionRunIdentity;
  }): Promise<{ outcome: "succeeded" | "failed" | "unknown"; result: ActionResult }>;
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
