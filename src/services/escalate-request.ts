import type { EscalationEntry, RequestRow, SnapshotEscalationStep } from "../domain/access-request.js";
import { formatDuration } from "../domain/duration.js";
import { isAppError } from "../domain/errors.js";
import { escalationStepDue } from "../domain/request-machine.js";
import { changeRequest } from "./change-request.js";
import { afterCommit, type ServiceDeps } from "./deps.js";
import { rosterFor } from "./on-call-roster.js";

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
  const step = before ? escalationStepDue(before, stepIndex, deps.now()) : null;
  if (!before || !step) return null;
  const effect = await effectOf(deps, before, step);
  try {
    const request = await changeRequest(deps, requestId, {
      type: "escalate",
      step: stepIndex,
      summary: effect.summary,
      addApproverIds: effect.approverIds,
      ...(effect.paged ? { paged: effect.paged } : {}),
    });
    return request.escalationLog.find((entry) => entry.step === stepIndex) ?? null;
  } catch (error) {
    if (!isAppError(error) || !["conflict", "already_decided"].includes(error.code)) throw error;
    // Decided (or run elsewhere) while we paged: take the page back at once.
    if (effect.paged)
      await afterCommit(deps, "resolve page", () => deps.oncall.resolvePage(effect.paged!, pageKey(requestId)));
    return null;
  }
}
