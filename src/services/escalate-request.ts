import { formatDuration } from "../domain/duration.js";
import { afterCommit, type ServiceDeps } from "./deps.js";
import { rosterFor } from "./on-call-roster.js";
import type { EscalationEntry, RequestRow, SnapshotEscalationStep } from "./ports.js";

/**
 * One step of a pending request's escalation ladder (remind, re-route, page on-call). Runs from
 * the delayed job `escalate-<id>-<step>` or the sweeper; does nothing when the request was decided
 * meanwhile or the step already ran. The `expire` step is the request's pending deadline, which the
 * expiry job already enforces.
 */

export const pageKey = (requestId: string): string => `sesame-${requestId}`;

function pageSummary(request: RequestRow): string {
  return `Sesame: ${request.requesterId} waits for approval of ${request.resourceId} (${formatDuration(request.durationSeconds)}) since ${request.createdAt.toISOString()}`;
}

/** Pages on-call (outside any transaction: it is HTTP) and says what happened, in words for the log. */
async function page(
  deps: ServiceDeps,
  request: RequestRow,
  source: string,
): Promise<{ summary: string; paged: boolean; approverIds: string[] }> {
  const roster = await rosterFor(deps, [source]);
  const approverIds = (roster.onCall.get(source) ?? [])
    .map((p) => p.identityId)
    .filter((id) => request.snapshot.selfApproval || id !== request.requesterId);
  const who = roster.unavailable.has(source)
    ? "who is on call could not be checked"
    : approverIds.length > 0
      ? `asked ${approverIds.join(", ")}`
      : "nobody Sesame knows is on call";
  try {
    await deps.oncall.page(source, {
      key: pageKey(request.id),
      summary: pageSummary(request),
      severity: "warning",
      details: {
        request: request.id,
        resource: request.resourceId,
        requester: request.requesterId,
        reason: request.reason ?? "",
      },
    });
    return { summary: `paged on-call ${source} (${who})`, paged: true, approverIds };
  } catch (error) {
    deps.logger.warn(
      { requestId: request.id, source, error: error instanceof Error ? error.message : String(error) },
      "paging on-call failed",
    );
    return { summary: `could not page on-call ${source}; ${who}`, paged: false, approverIds };
  }
}

async function effectOf(
  deps: ServiceDeps,
  request: RequestRow,
  step: SnapshotEscalationStep,
): Promise<{ summary: string; approverIds: string[]; paged?: string }> {
  switch (step.action) {
    case "remind":
      return { summary: "reminded the approvers", approverIds: [] };
    case "reroute":
      return {
        summary: `also asked ${step.approverIds.join(", ") || "nobody (the reroute names no one else)"}`,
        approverIds: step.approverIds,
      };
    case "page": {
      const result = await page(deps, request, step.oncall!);
      return {
        summary: result.summary,
        approverIds: result.approverIds,
        ...(result.paged ? { paged: step.oncall! } : {}),
      };
    }
    case "expire":
      return { summary: "expired", approverIds: [] };
  }
}

export async function runEscalationStep(
  deps: ServiceDeps,
  requestId: string,
  stepIndex: number,
): Promise<EscalationEntry | null> {
  const before = await deps.store.getRequest(requestId);
  const step = before?.snapshot.escalation?.[stepIndex];
  if (
    !before ||
    !step ||
    step.action === "expire" ||
    before.status !== "pending" ||
    before.escalationLog.some((e) => e.step === stepIndex)
  )
    return null;
  const effect = await effectOf(deps, before, step);
  const now = deps.now();
  const applied = await deps.store.transaction(async (uow) => {
    const request = await uow.lockRequest(requestId);
    if (request?.status !== "pending" || request.escalationLog.some((e) => e.step === stepIndex)) return null;
    const entry: EscalationEntry = {
      step: stepIndex,
      action: step.action,
      at: now,
      summary: effect.summary,
      ...(effect.paged ? { paged: effect.paged } : {}),
    };
    const steps = request.snapshot.steps.map((s, index) =>
      index === request.currentStep
        ? { ...s, approverIds: [...new Set([...s.approverIds, ...effect.approverIds])].sort() }
        : s,
    );
    const onCallApproverIds =
      step.action === "page"
        ? [...new Set([...(request.snapshot.onCallApproverIds ?? []), ...effect.approverIds])]
        : request.snapshot.onCallApproverIds;
    await uow.updateRequest(request.id, request.version, {
      escalationLog: [...request.escalationLog, entry],
      snapshot: { ...request.snapshot, steps, ...(onCallApproverIds ? { onCallApproverIds } : {}) },
    });
    await uow.appendAudit({
      type: "request.escalated",
      requestId,
      data: {
        step: stepIndex,
        action: step.action,
        summary: effect.summary,
        ...(effect.paged ? { paged: effect.paged } : {}),
      },
    });
    return { entry, request: (await uow.getRequest(requestId))! };
  });
  if (!applied) {
    // Decided while we paged: take the page back at once.
    if (effect.paged)
      await afterCommit(deps, "resolve page", () => deps.oncall.resolvePage(effect.paged!, pageKey(requestId)));
    return null;
  }
  await afterCommit(deps, "notify", () =>
    deps.notifier.publish({ type: "request.escalated", request: applied.request, entry: applied.entry }),
  );
  return applied.entry;
}

/** Schedules every ladder step of a new pending request (the expire step is its pending deadline). */
export async function scheduleEscalation(deps: ServiceDeps, request: RequestRow): Promise<void> {
  for (const [index, step] of (request.snapshot.escalation ?? []).entries()) {
    if (step.action === "expire") continue;
    await afterCommit(deps, "schedule escalation", () =>
      deps.jobs.scheduleEscalation(request.id, index, new Date(request.createdAt.getTime() + step.afterSeconds * 1000)),
    );
  }
}

/** Once a request is decided, resolve every page its ladder (or break-glass) raised. */
export async function resolvePages(deps: ServiceDeps, request: RequestRow): Promise<void> {
  for (const source of new Set(request.escalationLog.flatMap((entry) => (entry.paged ? [entry.paged] : [])))) {
    await afterCommit(deps, "resolve page", () => deps.oncall.resolvePage(source, pageKey(request.id)));
  }
}
