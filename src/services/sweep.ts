import { activateGrant } from "./activate-grant.js";
import { forEachAtMost } from "./at-most.js";
import type { ServiceDeps } from "./deps.js";
import { runEscalationStep } from "./escalate-request.js";
import { expireRequest } from "./expire-request.js";
import { runAction, sweepLostActions } from "./run-action.js";
import {
  createSweepContext,
  SWEEP_CONCURRENCY,
  type SweepCheckpoint,
  type SweepContext,
  type SweepReport,
} from "./sweep-context.js";
import { restoreRevokeJobs, revokeOverdueGrants } from "./sweep-revocations.js";
import { undoFailedGrant } from "./undo-failed-grant.js";

export type { SweepCheckpoint, SweepReport } from "./sweep-context.js";

/** Work nobody has picked up for this long (no job ran, no live lease) is done by the sweeper. */
const STUCK_AFTER_MS = 10_000;
/** A ladder step overdue by this much lost its delayed job (Redis flushed or down). */
const ESCALATION_SLACK_MS = 60_000;
const RETRY_FAILED_REVOKE_AFTER_MS = 5 * 60_000;

/**
 * Repairs whatever Redis lost or a crash interrupted, from the database alone: overdue grants are
 * revoked right here (no queue needed), missing revoke jobs are re-created, approved grants that
 * never started are queued (or granted here if the queue is down), overdue requests expire. It
 * holds no transaction of its own: each repair is a use case with its own short ones. A database
 * failure ends the sweep (the next one starts afresh); `checkpoint` runs after every batch.
 */
export async function sweep(
  deps: ServiceDeps,
  checkpoint: SweepCheckpoint = async () => undefined,
): Promise<SweepReport> {
  const ctx = createSweepContext(deps, checkpoint);
  await revokeOverdueGrants(ctx);
  await finishAbandonedWork(ctx);
  await restoreRevokeJobs(ctx);
  await ctx.checkpoint();
  await expireOverdueRequests(ctx);
  await finishActions(ctx);
  return ctx.report;
}

/** A run claimed this long ago (beyond its own statement timeout) without a result died with its process. */
export const ACTION_LOST_AFTER_MS = 60_000;

/**
 * Actions: a run whose process died between its claim and its result becomes `unknown` (reported,
 * never retried); an approved run nobody claimed (the process died right after the approval
 * committed) is run here, once: the claim decides who runs it.
 */
async function finishActions(ctx: SweepContext): Promise<void> {
  const { deps, now } = ctx;
  await ctx.attempt("mark lost actions unknown", async () => {
    await sweepLostActions(deps, { graceMs: ACTION_LOST_AFTER_MS });
  });
  const queued = await deps.store.listQueuedActions(new Date(now.getTime() - STUCK_AFTER_MS), 50);
  for (const run of queued)
    await ctx.attempt(`run action ${run.requestId}`, async () => {
      await runAction(deps, run.requestId);
    });
}

/** Revokes and activations a dead process left half done, and failed grants and revokes due for another try. */
async function finishAbandonedWork(ctx: SweepContext): Promise<void> {
  const { deps, report, now } = ctx;
  const stuckBefore = new Date(now.getTime() - STUCK_AFTER_MS);
  const retryBefore = new Date(now.getTime() - RETRY_FAILED_REVOKE_AFTER_MS);
  // A revoke whose process died mid-call: its lease ran out, so nobody is working on it.
  const revoking = await deps.store.listUnleasedGrants(["revoking"], { olderThan: stuckBefore, limit: 500 });
  report.revokedOverdue += await ctx.revoke(revoking, "finish revoke");
  await ctx.checkpoint();
  const failed = await deps.store.listGrants({
    status: ["grant_failed"],
    updatedBefore: retryBefore,
    notRevokedYet: true,
    limit: 100,
  });
  report.failedGrantsCleaned += failed.length;
  await forEachAtMost(failed, SWEEP_CONCURRENCY, (grant) =>
    ctx.attempt(`clean up failed grant ${grant.id}`, () => undoFailedGrant(deps, grant.id)),
  );
  const revokeFailed = await deps.store.listGrants({
    status: ["revoke_failed"],
    updatedBefore: retryBefore,
    limit: 100,
  });
  report.revokesRetried += revokeFailed.length;
  await ctx.revoke(revokeFailed, "retry failed revoke", true);
  await ctx.checkpoint();
  const scheduled = await deps.store.listUnleasedGrants(["scheduled"], { olderThan: stuckBefore, limit: 500 });
  await forEachAtMost(scheduled, SWEEP_CONCURRENCY, (grant) =>
    ctx.attempt(`activate ${grant.id}`, async () => {
      try {
        await deps.jobs.enqueueActivation(grant.id);
      } catch {
        await activateGrant(deps, grant.id, { finalAttempt: false });
      }
      report.activationsQueued += 1;
    }),
  );
}

/** Pending requests past their deadline expire; escalation steps whose job Redis lost run here. */
async function expireOverdueRequests(ctx: SweepContext): Promise<void> {
  const { deps, report, now } = ctx;
  for (const request of await deps.store.listRequests({ status: ["pending"], pendingUntilBefore: now, limit: 1000 })) {
    await ctx.attempt(`expire ${request.id}`, async () => {
      if (await expireRequest(deps, request.id)) report.requestsExpired += 1;
    });
  }
  // A step overdue by more than the sweep's own slack lost its job (Redis flushed or down).
  const escalationDueBefore = now.getTime() - ESCALATION_SLACK_MS;
  for (const request of await deps.store.listRequests({ status: ["pending"], limit: 1000 })) {
    for (const [index, step] of (request.snapshot.escalation ?? []).entries()) {
      const due = request.createdAt.getTime() + step.afterSeconds * 1000 <= escalationDueBefore;
      if (!due || step.action === "expire" || request.escalationLog.some((entry) => entry.step === index)) continue;
      await ctx.attempt(`escalate ${request.id} step ${index}`, async () => {
        if (await runEscalationStep(deps, request.id, index)) report.escalationsRun += 1;
      });
    }
  }
}
