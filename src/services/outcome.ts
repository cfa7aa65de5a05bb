import { breakGlassAlarm } from "./break-glass.js";
import { afterCommit, type ServiceDeps } from "./deps.js";
import { resolvePages, scheduleEscalation } from "./escalate-request.js";
import type { AppliedTransition } from "./request-transitions.js";

/** Queues what an approval needs once committed: activation of a new grant, or the moved revoke of an extended one. */
export async function scheduleAfterApproval(deps: ServiceDeps, outcome: AppliedTransition): Promise<void> {
  const grant = outcome.grant;
  if (!grant) return;
  if (outcome.request.kind === "extension") {
    await afterCommit(deps, "reschedule revoke", () => deps.jobs.scheduleRevoke(grant.id, grant.expiresAt));
    await afterCommit(deps, "notify", () => deps.notifier.publish({ type: "grant.extended", grant }));
  } else {
    await afterCommit(deps, "enqueue activation", () => deps.jobs.enqueueActivation(grant.id));
  }
}

export async function publishOutcome(deps: ServiceDeps, outcome: AppliedTransition): Promise<void> {
  const request = outcome.request;
  const notification =
    request.status === "pending"
      ? outcome.stepAdvanced
        ? ({ type: "request.step_advanced", request } as const)
        : ({ type: "request.approval_recorded", request } as const)
      : ({ type: "request.decided", request } as const);
  if (notification) await afterCommit(deps, "notify", () => deps.notifier.publish(notification));
  if (request.status !== "pending" && !request.breakGlass) await resolvePages(deps, request);
}

/** After a new request (or extension) commits: queue its expiry or its grant, and tell people. */
export async function afterSubmission(deps: ServiceDeps, outcome: AppliedTransition): Promise<void> {
  await scheduleAfterApproval(deps, outcome);
  if (outcome.request.status === "pending") {
    const request = outcome.request;
    await afterCommit(deps, "schedule request expiry", () =>
      deps.jobs.scheduleRequestExpiry(request.id, request.pendingUntil),
    );
    await scheduleEscalation(deps, request);
    await afterCommit(deps, "notify", () => deps.notifier.publish({ type: "request.submitted", request }));
  } else if (outcome.request.breakGlass) {
    await breakGlassAlarm(deps, outcome.request);
  } else {
    await publishOutcome(deps, outcome);
  }
}
