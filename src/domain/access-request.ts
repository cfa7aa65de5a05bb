import type { AccessTrigger } from "./access-trigger.js";
import type { ActionSpec } from "./actions/action-run.js";
import type { EscalationPlanStep } from "./policy/request-evaluation.js";

/**
 * The access request as Sesame stores it: who asked for what, for how long and why, the policy
 * facts frozen at submission, and where its approval stands. The request machine
 * (request-machine.ts) is the only place that decides how it changes.
 */

export type RequestStatus = "pending" | "approved" | "denied" | "cancelled" | "expired";

export interface ApprovalStepState {
  name: string;
  approverIds: string[];
  required: number;
}

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
  /** The signed event that opened it, when nobody asked by hand. */
  trigger?: AccessTrigger;
  /** An action request: the exact action approved (its text and sha256), instead of a grant. */
  action?: ActionSpec;
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
  /** The grant an approved access request created (null while pending, when refused, and for extensions). */
  grantId: string | null;
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
  | "grantId"
> & { breakGlass?: boolean };

/** A request as it is about to be stored: pending, undecided, with the id and time it gets now. */
export function draftRequest(input: NewRequest, ctx: { now: Date; newId: () => string }): RequestRow {
  return {
    ...input,
    id: ctx.newId(),
    status: "pending",
    version: 1,
    currentStep: 0,
    decisions: [],
    decidedAt: null,
    decidedById: null,
    decisionReason: null,
    grantId: null,
    createdAt: ctx.now,
    escalationLog: [],
    breakGlass: input.breakGlass ?? false,
    reviewedAt: null,
    reviewedById: null,
    reviewNote: null,
  };
}

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
    | "grantId"
  >
>;
