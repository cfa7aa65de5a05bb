import type { RequestRow } from "../domain/access-request.js";
import { changeRequest } from "./change-request.js";
import type { ServiceDeps } from "./deps.js";
import { pageKey } from "./escalate-request.js";

/**
 * Break-glass: the grant already happened (the request was auto-approved at submission). Here
 * on-call is paged (outside any transaction: it is HTTP), and the request records the page, which
 * tells security and the approvers; later someone reviews it.
 */
export async function breakGlassAlarm(deps: ServiceDeps, request: RequestRow): Promise<void> {
  const source = deps.policy().policy(request.policyId)?.breakGlass?.page;
  let summary = "break-glass: nobody paged (the policy names no on-call source)";
  let paged: string | undefined;
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
      paged = source;
    } catch (error) {
      summary = `break-glass: could not page on-call ${source}`;
      deps.logger.error(
        { requestId: request.id, source, error: error instanceof Error ? error.message : String(error) },
        "break-glass page failed",
      );
    }
  }
  await changeRequest(deps, request.id, { type: "break_glass_paged", summary, ...(paged ? { paged } : {}) });
}

/** An approver or admin looks at break-glass access after the fact; its page is resolved. */
export function reviewBreakGlass(
  deps: ServiceDeps,
  input: { requestId: string; actorId: string; note?: string },
): Promise<RequestRow> {
  return changeRequest(deps, input.requestId, {
    type: "review",
    actorId: input.actorId,
    ...(input.note ? { note: input.note } : {}),
  });
}
