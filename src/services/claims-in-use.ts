/**
 * The grants whose entitlement claims this process is using right now (between claim and
 * record), per lease owner (ServiceDeps.instanceId). The lease heartbeat renews only these: a
 * claim whose release failed (the database went away just as the outcome was recorded) then runs
 * out within LEASE_SECONDS, and a retry or the sweeper takes over, instead of a lease renewed for
 * as long as the process lives, blocking its grant for good.
 */
const inUse = new Map<string, Map<string, number>>();

/** Runs `work` (claim → connector call → record) with the grants' claims counted as in use. */
export async function usingClaims<T>(owner: string, grantIds: readonly string[], work: () => Promise<T>): Promise<T> {
  const mine = inUse.get(owner) ?? new Map<string, number>();
  inUse.set(owner, mine);
  for (const grantId of grantIds) mine.set(grantId, (mine.get(grantId) ?? 0) + 1);
  try {
    return await work();
  } finally {
    for (const grantId of grantIds) {
      const left = (mine.get(grantId) ?? 1) - 1;
      if (left > 0) mine.set(grantId, left);
      else mine.delete(grantId);
    }
    if (mine.size === 0) inUse.delete(owner);
  }
}

/** The grants whose claims `owner` is using now. */
export function claimsInUse(owner: string): string[] {
  return [...(inUse.get(owner)?.keys() ?? [])];
}
