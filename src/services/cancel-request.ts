import type { RequestRow } from "../domain/access-request.js";
import { changeRequest } from "./change-request.js";
import type { ServiceDeps } from "./deps.js";

/** The requester withdraws a pending request. */
export function cancelRequest(deps: ServiceDeps, input: { requestId: string; actorId: string }): Promise<RequestRow> {
  return changeRequest(deps, input.requestId, { type: "cancel", actorId: input.actorId });
}
