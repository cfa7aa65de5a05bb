import { claimsInUse } from "../services/claims-in-use.js";
import { LEASE_SECONDS, type ServiceDeps } from "../services/deps.js";

export interface LeaseHeartbeat {
  /** Stops renewing and gives back this process's leases (call once its work has finished). */
  stop(): Promise<void>;
}

/**
 * Renews the entitlement leases of the calls this process is making (claims-in-use.ts), three
 * times per lease life, so a connector call that takes long keeps its claim while a dead process,
 * or a claim whose release failed, loses it within LEASE_SECONDS.
 * A failed renewal (database away) is logged once per outage; the lease may then lapse, and the
 * worst case is a second, idempotent call to the connector.
 */
export function startLeaseHeartbeat(deps: ServiceDeps): LeaseHeartbeat {
  let failing = false;
  const beat = async () => {
    try {
      await deps.store.renewLeases(deps.instanceId, LEASE_SECONDS, claimsInUse(deps.instanceId));
      if (failing) deps.logger.info({}, "entitlement leases are renewed again");
      failing = false;
    } catch (error) {
      if (!failing) deps.logger.warn({ error: String(error) }, "could not renew entitlement leases");
      failing = true;
    }
  };
  const timer = setInterval(() => void beat(), (LEASE_SECONDS * 1000) / 3);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await deps.store.releaseLeases(deps.instanceId).catch(() => undefined);
    },
  };
}
