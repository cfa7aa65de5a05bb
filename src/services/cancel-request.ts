import { AppError } from "../domain/errors.js";
import type { ServiceDeps } from "./deps.js";
import { publishOutcome } from "./outcome.js";
import type { RequestRow } from "./ports.js";
import { describeDecided } from "./request-text.js";
import { applyRequestEvent } from "./request-transitions.js";

/** The requester withdraws a pending request. */
export async function cancelRequest(
  deps: ServiceDeps,
  input: { requestId: string; actorId: string },
): Promise<RequestRow> {
  const now = deps.now();
  const outcome = await deps.store.transaction(async (uow) => {
    const request = await uow.lockRequest(input.requestId);
    if (!request) throw new AppError("not_found", `There is no request ${input.requestId}.`);
    // Checked before the status, so someone else learns nothing about the request.
    if (request.requesterId !== input.actorId)
      throw new AppError("forbidden", "Only the person who made this request can cancel it.");
    if (request.status !== "pending")
      throw new AppError("already_decided", `${describeDecided(request)} There is nothing to cancel.`);
    return applyRequestEvent(
      uow,
      request,
      { type: "cancel", actorId: input.actorId },
      { now, isStillApprover: () => false },
    );
  });
  await publishOutcome(deps, outcome);
  return outcome.request;
}

/** Expires a request whose pending deadline passed; a no-op when it was decided meanwhile or is not due. */
export async function expireRequest(deps: ServiceDeps, requestId: string): Promise<RequestRow | null> {
  const now = deps.now();
  const outcome = await deps.store.transaction(async (uow) => {
    const request = await uow.lockRequest(requestId);
    if (request?.status !== "pending" || request.pendingUntil > now) return null;
    return applyRequestEvent(uow, request, { type: "expire" }, { now, isStillApprover: () => false });
  });
  if (outcome) await publishOutcome(deps, outcome);
  return outcome?.request ?? null;
}
