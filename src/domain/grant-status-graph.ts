import type { GrantStatus } from "./grant.js";

/**
 * The statuses each status can move to, as the grant machine's transitions (grant-machine.ts) set
 * them: a grant that failed to be granted stays `grant_failed` (its clean-up changes no status),
 * and a revoked one stays revoked. Kept beside the machine, not in it, because only reads that wait
 * for a status ask it.
 */
const NEXT_STATUSES: Record<GrantStatus, readonly GrantStatus[]> = {
  scheduled: ["active", "revoking", "grant_failed"],
  active: ["revoking", "revoke_failed"],
  revoking: ["revoked", "revoke_failed"],
  revoke_failed: ["revoking", "revoked"],
  grant_failed: [],
  revoked: [],
};

/** Whether a grant in `from` can still come to be `to` (a read waiting for a status asks). */
export function canStillBecome(from: GrantStatus, to: GrantStatus): boolean {
  const seen = new Set<GrantStatus>([from]);
  const next = [from];
  for (let status = next.pop(); status !== undefined; status = next.pop()) {
    if (status === to) return true;
    for (const after of NEXT_STATUSES[status]) {
      if (seen.has(after)) continue;
      seen.add(after);
      next.push(after);
    }
  }
  return false;
}
