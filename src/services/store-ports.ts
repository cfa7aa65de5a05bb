import type { DecisionRow, RequestPatch, RequestRow, RequestStatus } from "../domain/access-request.js";
import type { ActionRunPatch, ActionRunRow } from "../domain/actions/action-run.js";
import type { AuditInput } from "../domain/audit-event.js";
import type { GrantPatch, GrantRow, GrantStatus, NewGrant } from "../domain/grant.js";

/**
 * The store port: what the services need from the database (src/storage/store.ts implements it).
 * Reads go anywhere; writes only inside a transaction's unit of work.
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
