import type { RequestRow } from "../domain/access-request.js";
import { AppError } from "../domain/errors.js";
import { type RequestContext, type RequestEvent, transitionRequest } from "../domain/request-machine.js";
import type { ServiceDeps } from "./deps.js";
import { runAfterCommit, saveRequest } from "./effects.js";
import type { UnitOfWork } from "./ports.js";

/** The machine's context as a use case sees it: the clock, ids, admins; nobody is an approver unless said. */
export function requestContext(deps: ServiceDeps, overrides: Partial<RequestContext> = {}): RequestContext {
  const book = deps.policy();
  return {
    now: deps.now(),
    isStillApprover: () => false,
    isAdmin: (personId) => book.isAdmin(personId),
    newId: deps.newId,
    ...overrides,
  };
}

/**
 * One event on one request: lock → transition → save with the version check (and in-transaction
 * effects) → commit → after-commit effects. `context` adds what only the locked row can tell.
 */
export async function changeRequest(
  deps: ServiceDeps,
  requestId: string,
  event: RequestEvent,
  context?: (uow: UnitOfWork, request: RequestRow) => Promise<Partial<RequestContext>>,
): Promise<RequestRow> {
  const committed = await deps.store.transaction(async (uow) => {
    const request = await uow.lockRequest(requestId);
    if (!request) throw new AppError("not_found", `There is no request ${requestId}.`);
    const ctx = requestContext(deps, context ? await context(uow, request) : {});
    return saveRequest(deps, uow, request, transitionRequest(request, event, ctx));
  });
  await runAfterCommit(deps, committed.after, committed.saved);
  return committed.saved.request!;
}
