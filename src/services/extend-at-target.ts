import { transitionGrant } from "../domain/grant-machine.js";
import type { ServiceDeps } from "./deps.js";
import { saveGrant } from "./effects.js";

/**
 * After an extension commits, connectors that enforce an expiry on the target (a login role's
 * VALID UNTIL, a Kerberos principal's expiry) learn the new one. Until this succeeds the target may
 * end the access at the old time: earlier, never later, than Sesame's own revoke.
 */
export async function extendAtTarget(deps: ServiceDeps, grantId: string, expiresAt: Date): Promise<void> {
  const grant = await deps.store.getGrant(grantId);
  if (grant?.status !== "active") return;
  const connector = deps.connectors.get(grant.connectorName);
  if (!connector.extend) return;
  const receipt = await connector.extend({
    grantId: grant.id,
    principal: grant.principal,
    target: grant.target,
    expiresAt,
    receipt: grant.receipt,
  });
  if (!receipt) return;
  const sealedSecret = receipt.secret ? deps.secrets.seal(receipt.secret) : undefined;
  await deps.store.transaction(async (uow) => {
    const current = await uow.lockGrant(grantId);
    if (current?.status !== "active") return;
    const transition = transitionGrant(
      current,
      { type: "receipt_updated", receipt: receipt.data, sealedSecret },
      deps.now(),
    );
    await saveGrant(deps, uow, current, transition);
  });
}
