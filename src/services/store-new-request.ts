import type { RequestRow } from "../domain/access-request.js";
import type { Effect } from "../domain/effects.js";
import { submissionEffects, transitionRequest } from "../domain/request-machine.js";
import { requestContext } from "./change-request.js";
import type { ServiceDeps } from "./deps.js";
import { runAfterCommit, saveNewRequest } from "./effects.js";

/**
 * Stores a new request (or extension request) in one insert: when a rule auto-approves it, the
 * machine's approval is applied to the draft before it is written, so it is born approved.
 */
export async function storeNewRequest(
  deps: ServiceDeps,
  draft: RequestRow,
  autoApprovalReason: string | null,
): Promise<RequestRow> {
  const { row, effects } = newRequest(deps, draft, autoApprovalReason);
  const committed = await deps.store.transaction((uow) => saveNewRequest(deps, uow, row, effects));
  await runAfterCommit(deps, committed.after, committed.saved);
  return committed.saved.request!;
}

/** The row a new request is inserted as (approved already when a rule approved it) and the effects of its birth. */
export function newRequest(
  deps: ServiceDeps,
  draft: RequestRow,
  autoApprovalReason: string | null,
): { row: RequestRow; effects: Effect[] } {
  const auto = autoApprovalReason
    ? transitionRequest(draft, { type: "auto_approve", reason: autoApprovalReason }, requestContext(deps))
    : null;
  const row: RequestRow = auto ? { ...draft, ...auto.patch } : draft;
  return { row, effects: [...submissionEffects(row), ...(auto?.effects ?? [])] };
}
