import type { ServiceDeps } from "./deps.js";
import { isEntitlementBusy } from "./entitlement-lease.js";
import { revokeGrants } from "./revoke-grants.js";

export interface SweepReport {
  activationsQueued: number;
  revokedOverdue: number;
  revokeJobsRestored: number;
  revokesRetried: number;
  /** Failed grants whose clean-up at the target was tried again. */
  failedGrantsCleaned: number;
  requestsExpired: number;
  /** Escalation steps whose job Redis lost, run here. */
  escalationsRun: number;
  errors: number;
}

/**
 * Called after every batch: renews the sweep's lease, and throws when the sweep must stop (the
 * lease was lost or the sweep abandoned), which ends it like a database failure does.
 */
export type SweepCheckpoint = () => Promise<void>;

/** What each step of a sweep works with. */
export interface SweepContext {
  deps: ServiceDeps;
  /** The sweep's one idea of "now", so its steps agree on what is overdue. */
  now: Date;
  report: SweepReport;
  checkpoint: SweepCheckpoint;
  /** Runs one item's repair; a failure is counted and logged, and the sweep goes on. */
  attempt(what: string, work: () => Promise<void>): Promise<void>;
  /**
   * Revokes a batch of grants, SWEEP_CONCURRENCY connector calls at once; failures are counted and
   * logged. Returns how many were revoked.
   */
  revoke(grants: readonly { id: string; attempts: number }[], what: string, finalAttempt?: boolean): Promise<number>;
}

/** How many grants a sweep revokes, activates or cleans up at once. */
export const SWEEP_CONCURRENCY = 20;
/** A revoke the sweeper keeps retrying (its job lost) pages like the job's last attempt would. */
const PAGE_AFTER_ATTEMPTS = 10;

export function createSweepContext(deps: ServiceDeps, checkpoint: SweepCheckpoint): SweepContext {
  const report: SweepReport = {
    activationsQueued: 0,
    revokedOverdue: 0,
    revokeJobsRestored: 0,
    revokesRetried: 0,
    failedGrantsCleaned: 0,
    requestsExpired: 0,
    escalationsRun: 0,
    errors: 0,
  };
  const failed = (what: string, error: unknown) => {
    // A revoke job (or another process) holds the grant's claim: it is being done, not failing.
    if (isEntitlementBusy(error)) return;
    report.errors += 1;
    deps.logger.warn(
      { what, error: error instanceof Error ? error.message : String(error) },
      "sweep step failed; it will be tried again next sweep",
    );
  };
  return {
    deps,
    now: deps.now(),
    report,
    checkpoint,
    async attempt(what, work) {
      try {
        await work();
      } catch (error) {
        failed(what, error);
      }
    },
    async revoke(grants, what, final) {
      const outcomes = await revokeGrants(
        deps,
        grants.map((grant) => ({
          grantId: grant.id,
          finalAttempt: final ?? grant.attempts + 1 >= PAGE_AFTER_ATTEMPTS,
        })),
        { callsAtOnce: SWEEP_CONCURRENCY },
      );
      let revoked = 0;
      for (const [grantId, outcome] of outcomes) {
        if (outcome.status === "rejected") failed(`${what} ${grantId}`, outcome.reason);
        else if (outcome.value.kind === "revoked") revoked += 1;
      }
      return revoked;
    },
  };
}
