import { AppError } from "../domain/errors.js";
import type { GrantRow } from "../domain/grant.js";
import type { ServiceDeps } from "./deps.js";

/** The connector's revoke, and its own check that the access is really gone where it can observe it. */
export async function removeAccess(deps: ServiceDeps, grant: GrantRow): Promise<void> {
  const connector = deps.connectors.get(grant.connectorName);
  const context = {
    grantId: grant.id,
    principal: grant.principal,
    target: grant.target,
    expiresAt: grant.expiresAt,
    receipt: grant.receipt,
  };
  await connector.revoke(context);
  if (connector.verifyRevoked && !(await connector.verifyRevoked(context))) {
    throw new AppError(
      "connector_failed",
      `The ${grant.connectorName} connector revoked ${grant.principal}, but the access is still there.`,
    );
  }
}
