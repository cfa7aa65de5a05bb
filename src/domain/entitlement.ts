import { createHash } from "node:crypto";
import { canonicalJson } from "./audit-chain.js";

/**
 * Two grants with the same key hold the same access on the target, so revoking one must not
 * remove access the other still grants (invariant 6).
 */
export function entitlementKey(connectorName: string, entitlement: unknown, principal: string): string {
  return createHash("sha256").update(canonicalJson({ connectorName, entitlement, principal })).digest("hex");
}
