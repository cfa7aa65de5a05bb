import { AppError } from "../domain/errors.js";
import type { GrantRow } from "../domain/grant.js";
import type { ServiceDeps } from "./deps.js";
import { requestRevoke } from "./request-revoke.js";

/** An admin takes the access away now. */
export function adminRevokeGrant(
  deps: ServiceDeps,
  input: { grantId: string; actorId: string; reason?: string },
): Promise<GrantRow> {
  if (!deps.policy().isAdmin(input.actorId))
    return Promise.reject(
      new AppError(
        "forbidden",
        "Only admins (people with admin: true in the policy file) can revoke someone else's grant.",
      ),
    );
  return requestRevoke(deps, { ...input, cause: "admin" });
}
