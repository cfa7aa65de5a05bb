import { activateGrant } from "./activate-grant.js";
import type { ServiceDeps } from "./deps.js";
import { runEscalationStep } from "./escalate-request.js";
import { expireRequest } from "./expire-request.js";
import { performRevoke } from "./revoke-grant.js";
import { undoFailedGrant } from "./undo-failed-grant.js";

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

/** Work nobody has picked up for this long (no job ran, no live lease) is done by the sweeper. */
const STUCK_AFTER_MS = 10_000;
/** A ladder step overdue by this much lost its delayed job (Redis flushed or down). */
const ESCALATION_SLACK_MS = 60_000;
const RETRY_FAILED_REVOKE_AFTER_MS = 5 * 60_000;
/** A revoke the sweeper keeps retrying (its job lost) pages like the job's last attempt would. */
const PAGE_AFTER_ATTEMPTS = 10;
const finalAttempt = (grant: { attempts: number }) => ({ finalAttempt: grant.attempts + 1 >= PAGE_AFTER_ATTEMPTS });

/**
 * Repairs whatever Redis lost or a crash interrupted, from the database alone: overdue grants are
 * revoked right here (no queue needed), missing revoke jobs are re-created, approved grants that
 * never started are queued (or granted here if the queue is down), overdue requests expire.
 */
export async function sweep(deps: ServiceDeps): Promise<SweepReport> {
  const now = deps.now();
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
  const attempt = async (what: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      report.errors += 1;
      deps.logger.warn(
        { what, error: error instanceof Error ? error.message : String(error) },
        "sweep step failed; it will be tried again next sweep",
      );
    }
  };

  for (const grant of await deps.store.listGrants({ status: ["active"], expiresBefore: now, limit: 500 })) {
    await attempt(`revoke overdue ${grant.id}`, async () => {
      if ((await performRevoke(deps, grant.id, finalAttempt(grant))).kind === "revoked") report.revokedOverdue += 1;
    });
  }
  const stuckBefore = new Date(now.getTime() - STUCK_AFTER_MS);
  const retryBefore = new Date(now.getTime() - RETRY_FAILED_REVOKE_AFTER_MS);
  // A revoke whose process died mid-call: its lease ran out, so nobody is working on it.
  for (const grant of await deps.store.listUnleasedGrants(["revoking"], { olderThan: stuckBefore, limit: 500 })) {
    await attempt(`finish revoke ${grant.id}`, async () => {
      if ((await performRevoke(deps, grant.id, finalAttempt(grant))).kind === "revoked") report.revokedOverdue += 1;
    });
  }
  for (const grant of await deps.store.listGrants({
    status: ["grant_failed"],
    updatedBefore: retryBefore,
    notRevokedYet: true,
    limit: 100,
  })) {
    report.failedGrantsCleaned += 1;
    await attempt(`clean up failed grant ${grant.id}`, () => undoFailedGrant(deps, grant.id));
  }
  for (const grant of await deps.store.listGrants({
    status: ["revoke_failed"],
    updatedBefore: retryBefore,
    limit: 100,
  })) {
    report.revokesRetried += 1;
    await attempt(
      `retry failed revoke ${grant.id}`,
      async () => void (await performRevoke(deps, grant.id, { finalAttempt: true })),
    );
  }
  for (const grant of await deps.store.listGrants({ status: ["active"], limit: 5000 })) {
    if (grant.expiresAt <= now) continue;
    await attempt(`restore revoke job ${grant.id}`, async () => {
      if (await deps.jobs.hasRevokeJob(grant.id)) return;
      await deps.jobs.scheduleRevoke(grant.id, grant.expiresAt);
      report.revokeJobsRestored += 1;
    });
  }
  for (const grant of await deps.store.listUnleasedGrants(["scheduled"], { olderThan: stuckBefore, limit: 500 })) {
    await attempt(`activate ${grant.id}`, async () => {
      try {
        await deps.jobs.enqueueActivation(grant.id);
      } catch {
        await activateGrant(deps, grant.id, { finalAttempt: false });
      }
      report.activationsQueued += 1;
    });
  }
  for (const request of await deps.store.listRequests({ status: ["pending"], pendingUntilBefore: now, limit: 1000 })) {
    await attempt(`expire ${request.id}`, async () => {
      if (await expireRequest(deps, request.id)) report.requestsExpired += 1;
    });
  }
  // A step overdue by more than the sweep's own slack lost its job (Redis flushed or down).
  const escalationDueBefore = now.getTime() - ESCALATION_SLACK_MS;
  for (const request of await deps.store.listRequests({ status: ["pending"], limit: 1000 })) {
    for (const [index, step] of (request.snapshot.escalation ?? []).entries()) {
      const due = request.createdAt.getTime() + step.afterSeconds * 1000 <= escalationDueBefore;
      if (!due || step.action === "expire" || request.escalationLog.some((entry) => entry.step === index)) continue;
      await attempt(`escalate ${request.id} step ${index}`, async () => {
        if (await runEscalationStep(deps, request.id, index)) report.escalationsRun += 1;
      });
    }
  }
  return report;
}
