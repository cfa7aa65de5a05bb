import type { RequestRow } from "../domain/access-request.js";
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
  const auto = autoApprovalReason
    ? transitionRequest(draft, { type: "auto_approve", reason: autoApprovalReason }, requestContext(deps))
    : null;
  const row: RequestRow = auto ? { ...draft, ...auto.patch } : draft;
  const committed = await deps.store.transaction((uow) =>
    saveNewRequest(deps, uow, row, [...submissionEffects(row), ...(auto?.effects ?? [])]),
  );
  await runAfterCommit(deps, committed.after, committed.saved);
  return committed.saved.request!;
}
