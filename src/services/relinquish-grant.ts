import { AppError } from "../domain/errors.js";
import type { GrantRow } from "../domain/grant.js";
import { canSeeGrant } from "../domain/visibility.js";
import type { ServiceDeps } from "./deps.js";
import { requestRevoke } from "./request-revoke.js";

/** The holder gives the access back before it expires. */
export function relinquishGrant(deps: ServiceDeps, input: { grantId: string; actorId: string }): Promise<GrantRow> {
  return requestRevoke(deps, { ...input, cause: "relinquished" }, (grant) => {
    if (!canSeeGrant(grant, input.actorId, deps.policy().isAdmin(input.actorId)))
      throw new AppError("not_found", `There is no grant ${input.grantId} that you can see.`);
    if (grant.subjectId !== input.actorId)
      throw new AppError(
        "forbidden",
        "Only the person who holds this grant can relinquish it; an admin can revoke it.",
      );
  });
}
