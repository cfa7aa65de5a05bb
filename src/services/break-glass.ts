import { AppError } from "../domain/errors.js";
import { afterCommit, type ServiceDeps } from "./deps.js";
import { pageKey, resolvePages } from "./escalate-request.js";
import type { RequestRow } from "./ports.js";

/**
 * Break-glass: the grant already happened (the request was auto-approved at submission). Here
 * on-call is paged, security and the approvers are told, and later someone reviews it.
 */

/** The log entry of the break-glass page sits before every ladder step. */
const BREAK_GLASS_STEP = -1;

export async function breakGlassAlarm(deps: ServiceDeps, request: RequestRow): Promise<void> {
  const source = deps.policy().policy(request.policyId)?.breakGlass?.page;
  let summary = "break-glass: nobody paged (the policy names no on-call source)";
  let paged = false;
  if (source) {
    try {
      await deps.oncall.page(source, {
        key: pageKey(request.id),
        summary:
          `Sesame break-glass: ${request.requesterId} took ${request.resourceId} now: ${request.reason ?? ""}`.slice(
            0,
            1000,
          ),
        severity: "critical",
        details: { request: request.id, resource: request.resourceId, requester: request.requesterId },
      });
      summary = `break-glass: paged on-call ${source}`;
      paged = true;
    } catch (error) {
      summary = `break-glass: could not page on-call ${source}`;
      deps.logger.error(
        { requestId: request.id, source, error: error instanceof Error ? error.message : String(error) },
        "break-glass page failed",
      );
    }
  }
  const updated = await deps.store.transaction(async (uow) => {
    const row = (await uow.lockRequest(request.id))!;
    const entry = {
      step: BREAK_GLASS_STEP,
      action: "page" as const,
      at: deps.now(),
      summary,
      ...(paged && source ? { paged: source } : {}),
    };
    await uow.updateRequest(row.id, row.version, { escalationLog: [...row.escalationLog, entry] });
    await uow.appendAudit({ type: "request.break_glass_paged", requestId: row.id, data: { summary } });
    return (await uow.getRequest(row.id))!;
  });
  await afterCommit(deps, "notify", () => deps.notifier.publish({ type: "request.break_glass", request: updated }));
  if (!paged)
    await afterCommit(deps, "alert", () =>
      deps.notifier.publish({
        type: "alert",
        message: `Break-glass by ${request.requesterId} on ${request.resourceId}: ${summary}`,
        requestId: request.id,
      }),
    );
}

/** Who may review: the policy's approvers (at submission) and admins, never the person who broke the glass. */
function mayReview(deps: ServiceDeps, request: RequestRow, actorId: string): boolean {
  if (actorId === request.requesterId) return false;
  return deps.policy().isAdmin(actorId) || request.snapshot.steps.some((step) => step.approverIds.includes(actorId));
}

export async function reviewBreakGlass(
  deps: ServiceDeps,
  input: { requestId: string; actorId: string; note?: string },
): Promise<RequestRow> {
  const reviewed = await deps.store.transaction(async (uow) => {
    const request = await uow.lockRequest(input.requestId);
    if (!request?.breakGlass) throw new AppError("not_found", `There is no break-glass request ${input.requestId}.`);
    if (!mayReview(deps, request, input.actorId)) {
      throw new AppError(
        "forbidden",
        request.requesterId === input.actorId
          ? "You cannot review your own break-glass access; an approver or admin must."
          : "Only the policy's approvers or an admin can review break-glass access.",
      );
    }
    if (request.reviewedAt)
      throw new AppError(
        "already_decided",
        `This break-glass access was already reviewed by ${request.reviewedById} at ${request.reviewedAt.toISOString()}.`,
      );
    const now = deps.now();
    await uow.updateRequest(request.id, request.version, {
      reviewedAt: now,
      reviewedById: input.actorId,
      reviewNote: input.note?.trim() || null,
    });
    await uow.appendAudit({
      type: "request.break_glass_reviewed",
      actorId: input.actorId,
      requestId: request.id,
      data: { note: input.note?.trim() || null },
    });
    return (await uow.getRequest(request.id))!;
  });
  await resolvePages(deps, reviewed);
  await afterCommit(deps, "notify", () => deps.notifier.publish({ type: "request.reviewed", request: reviewed }));
  return reviewed;
}
