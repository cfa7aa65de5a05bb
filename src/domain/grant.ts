import type { AccessTrigger } from "./access-trigger.js";
/**
 * A grant: access a connector gives a subject until `expiresAt`. The grant machine
 * (grant-machine.ts) is the only place that decides how it changes.
 */

export const GRANT_STATUSES = ["scheduled", "active", "revoking", "revoked", "grant_failed", "revoke_failed"] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

export type RevokeCause = "expired" | "relinquished" | "admin" | "request_cancelled";

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
  /** What opened it when nobody asked by hand (copied from its request); absent or null otherwise. */
  trigger?: AccessTrigger | null;
}

/**
 * A committed change of a grant's status or expiry, as its listeners hear or read it: enough to
 * know whether it is active, and whether a waiter's status was reached.
 */
export interface GrantChange {
  id: string;
  subjectId: string;
  resourceId: string;
  status: GrantStatus;
  expiresAt: Date;
  /** The row's version (every update increments it): an older report never overrides a newer one. */
  version: number;
  /**
   * The row as the transaction saved it, for listeners in the process that committed it (a
   * waiting read answers from it without reading again); never sent to other processes.
   */
  grant?: GrantRow;
}

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
  | "trigger"
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
