import type { Connector } from "../connectors/connector.js";
import type { GrantStatus } from "../domain/grant-machine.js";
import type { EscalationPlanStep } from "../domain/request-evaluation.js";
import type { ApprovalStepState, RequestStatus } from "../domain/request-machine.js";

/**
 * What the services need from the outside world. Storage, jobs and connectors implement these;
 * the services never import Prisma, BullMQ or a chat SDK.
 */

/** The policy facts frozen into a request at submission, so later policy edits cannot change it silently. */
export interface RequestSnapshot {
  policyId: string;
  steps: ApprovalStepState[];
  selfApproval: boolean;
  matchedBecause: string;
  maxDurationSeconds: number;
  extension: { requiresApproval: boolean; maxTotalSeconds: number };
  connectorName: string;
  target: Record<string, unknown>;
  principal: string;
  /** Grants with the same key hold the same access (connector, normalised target, principal). */
  entitlementKey: string;
  /** The policy's escalation ladder as it was at submission (reroute targets resolved to people). Absent on old rows. */
  escalation?: SnapshotEscalationStep[];
  /** Approvers who came from an on-call look-up (at submission or a page step). */
  onCallApproverIds?: string[];
  /** Why on-call auto-approval was not applied (provider unavailable), shown to people. */
  onCallNote?: string;
}

/** reroute: `approverIds` are the people to add; page: `oncall` is the source to page. */
export type SnapshotEscalationStep = EscalationPlanStep;

export interface DecisionRow {
  approverId: string;
  kind: "approve" | "deny";
  step: number;
  comment: string | null;
  createdAt: Date;
}

/** One thing the escalation ladder did, shown to the requester and kept with the request. */
export interface EscalationEntry {
  /** Index of the ladder step in the policy snapshot. */
  step: number;
  action: "remind" | "reroute" | "page" | "expire";
  at: Date;
  /** "reminded the approvers", "paged on-call dba-primary (bob)", … */
  summary: string;
  /** The on-call source paged, to resolve the page once the request is decided. */
  paged?: string;
}

export interface RequestRow {
  id: string;
  kind: "access" | "extension";
  requesterId: string;
  resourceId: string;
  policyId: string;
  durationSeconds: number;
  reason: string | null;
  ticket: string | null;
  status: RequestStatus;
  version: number;
  snapshot: RequestSnapshot;
  currentStep: number;
  autoApprovalReason: string | null;
  decisionReason: string | null;
  decidedById: string | null;
  extendsGrantId: string | null;
  pendingUntil: Date;
  decidedAt: Date | null;
  createdAt: Date;
  decisions: DecisionRow[];
  escalationLog: EscalationEntry[];
  breakGlass: boolean;
  reviewedAt: Date | null;
  reviewedById: string | null;
  reviewNote: string | null;
}

export interface GrantRow {
  id: string;
  requestId: string;
  subjectId: string;
  resourceId: string;
  connectorName: string;
  principal: string;
  target: Record<string, unknown>;
  entitlementKey: string;
  status: GrantStatus;
  version: number;
  durationSeconds: number;
  startsAt: Date;
  expiresAt: Date;
  activatedAt: Date | null;
  revokedAt: Date | null;
  revokeReason: string | null;
  revokedById: string | null;
  receipt: Record<string, unknown> | null;
  hasSecret: boolean;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewRequest = Omit<
  RequestRow,
  | "id"
  | "version"
  | "createdAt"
  | "decisions"
  | "decidedAt"
  | "decidedById"
  | "decisionReason"
  | "currentStep"
  | "status"
  | "escalationLog"
  | "breakGlass"
  | "reviewedAt"
  | "reviewedById"
  | "reviewNote"
> & { breakGlass?: boolean };
export type NewGrant = Pick<
  GrantRow,
  | "requestId"
  | "subjectId"
  | "resourceId"
  | "connectorName"
  | "principal"
  | "target"
  | "entitlementKey"
  | "durationSeconds"
  | "startsAt"
  | "expiresAt"
>;

export type RequestPatch = Partial<
  Pick<
    RequestRow,
    | "status"
    | "currentStep"
    | "autoApprovalReason"
    | "decisionReason"
    | "decidedById"
    | "decidedAt"
    | "snapshot"
    | "escalationLog"
    | "reviewedAt"
    | "reviewedById"
    | "reviewNote"
  >
>;
export type GrantPatch = Partial<
  Pick<
    GrantRow,
    | "status"
    | "expiresAt"
    | "activatedAt"
    | "revokedAt"
    | "revokeReason"
    | "revokedById"
    | "receipt"
    | "attempts"
    | "lastError"
  >
> & {
  sealedSecret?: string | null;
};

export interface AuditInput {
  type: string;
  actorId?: string | null;
  requestId?: string | null;
  grantId?: string | null;
  data?: Record<string, unknown>;
}

export interface RequestFilter {
  /** Break-glass requests nobody has reviewed yet. */
  unreviewedBreakGlass?: boolean;
  status?: RequestStatus[];
  requesterId?: string;
  resourceId?: string;
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
  limit?: number;
}

export interface StoreReader {
  getRequest(id: string): Promise<RequestRow | null>;
  listRequests(filter: RequestFilter): Promise<RequestRow[]>;
  getGrant(id: string): Promise<GrantRow | null>;
  getGrantByRequest(requestId: string): Promise<GrantRow | null>;
  listGrants(filter: GrantFilter): Promise<GrantRow[]>;
}

export interface UnitOfWork extends StoreReader {
  /** Row lock: other transactions touching this row wait until this one ends. */
  lockRequest(id: string): Promise<RequestRow | null>;
  lockGrant(id: string): Promise<GrantRow | null>;
  /**
   * For work that calls a connector: locks the grant's entitlement (serialising every grant and
   * revoke of the same access, invariant 6), then the grant row. Always in that order, so two
   * such transactions can never wait on each other the other way round.
   */
  lockGrantAndEntitlement(id: string): Promise<GrantRow | null>;
  createRequest(data: NewRequest): Promise<RequestRow>;
  /** Returns false when the version moved on (someone else changed the row first). */
  updateRequest(id: string, expectedVersion: number, patch: RequestPatch): Promise<boolean>;
  addDecision(requestId: string, decision: Omit<DecisionRow, "createdAt">): Promise<void>;
  createGrant(data: NewGrant): Promise<GrantRow>;
  updateGrant(id: string, expectedVersion: number, patch: GrantPatch): Promise<boolean>;
  countOtherActiveHolders(entitlementKey: string, excludingGrantId: string): Promise<number>;
  appendAudit(event: AuditInput): Promise<void>;
}

export interface Store extends StoreReader {
  transaction<T>(work: (uow: UnitOfWork) => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
  /** Runs `work` only if no other process holds the named lock; returns undefined when skipped. */
  withExclusiveLock<T>(name: string, work: () => Promise<T>): Promise<T | undefined>;
  readSealedSecret(grantId: string): Promise<string | null>;
}

export interface JobScheduler {
  enqueueActivation(grantId: string): Promise<void>;
  /** Creates or moves the delayed job `revoke-<grantId>` so it fires at `at` (now if in the past). */
  scheduleRevoke(grantId: string, at: Date): Promise<void>;
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

export interface SecretBox {
  seal(secret: Record<string, string>): string;
  open(sealed: string): Record<string, string>;
}

export type Notification =
  | { type: "request.submitted"; request: RequestRow }
  | { type: "request.step_advanced"; request: RequestRow }
  /** The escalation ladder took a step (reminded, re-routed, paged): cards and the requester show it. */
  | { type: "request.escalated"; request: RequestRow; entry: EscalationEntry }
  /** A break-glass request was granted at once: security is told and approvers get a review card. */
  | { type: "request.break_glass"; request: RequestRow }
  | { type: "request.reviewed"; request: RequestRow }
  /** An approval was recorded but the step still needs more (N of M): cards show the new count. */
  | { type: "request.approval_recorded"; request: RequestRow }
  | { type: "request.decided"; request: RequestRow }
  | { type: "grant.activated"; grant: GrantRow }
  | { type: "grant.revoked"; grant: GrantRow }
  | { type: "grant.extended"; grant: GrantRow }
  | { type: "alert"; message: string; grantId?: string; requestId?: string };

export interface Notifier {
  publish(notification: Notification): Promise<void>;
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
