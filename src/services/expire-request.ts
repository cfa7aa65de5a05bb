import type { RequestRow } from "../domain/access-request.js";
import { isAppError } from "../domain/errors.js";
import { changeRequest } from "./change-request.js";
import type { ServiceDeps } from "./deps.js";

/** Expires a request whose pending deadline passed; null when it was decided meanwhile or is not due. */
export async function expireRequest(deps: ServiceDeps, requestId: string): Promise<RequestRow | null> {
  try {
    return await changeRequest(deps, requestId, { type: "expire" });
  } catch (error) {
    // The machine refuses a decided or not-yet-due request: for a timer, that just means nothing to do.
    if (isAppError(error) && ["already_decided", "conflict", "not_found"].includes(error.code)) return null;
    throw error;
  }
}
