import type { GrantRow, GrantStatus } from "../domain/grant.js";
import { canApply, transitionGrant } from "../domain/grant-machine.js";
import type { ServiceDeps } from "./deps.js";
import { saveGrants } from "./effects.js";
import type { UnitOfWork } from "./ports.js";
import { type Committed, leaseOf } from "./revoke-claims.js";

/** Records a grant the connector revoked: what was saved, or the status that left nothing to save. */
export interface RevokeRecorder {
  record(grant: GrantRow): Promise<Committed | GrantStatus | "missing">;
}

interface Waiting {
  grant: GrantRow;
  resolve(result: Committed | GrantStatus | "missing"): void;
  reject(reason: unknown): void;
}

/**
 * Records revoked grants as their calls finish, one transaction for whatever finished meanwhile:
 * a slow target holds up only its own grant's record, never those of the fast ones beside it, and
 * calls that finish together (most of a batch) still share one commit.
 */
export function createRevokeRecorder(deps: ServiceDeps): RevokeRecorder {
  let waiting: Waiting[] = [];
  let flushing = false;
  const flush = async () => {
    while (waiting.length > 0) {
      const group = waiting;
      waiting = [];
      try {
        const results = await deps.store.transaction((uow) =>
          recordRevoked(
            deps,
            uow,
            group.map((w) => w.grant),
          ),
        );
        for (const { grant, resolve } of group) resolve(results.get(grant.id) ?? "missing");
      } catch (error) {
        for (const { reject } of group) reject(error);
      }
    }
    flushing = false;
  };
  return {
    record(grant) {
      return new Promise((resolve, reject) => {
        waiting.push({ grant, resolve, reject });
        if (flushing) return;
        flushing = true;
        // After this turn of the event loop: the calls that finished in it go together.
        setImmediate(() => void flush());
      });
    },
  };
}

/** Gives back the leases and records the grants revoked; for each grant, what was saved or why nothing was. */
async function recordRevoked(
  deps: ServiceDeps,
  uow: UnitOfWork,
  removed: GrantRow[],
): Promise<Map<string, Committed | GrantStatus>> {
  const now = deps.now();
  const locked = await uow.lockGrants(removed.map((grant) => grant.id));
  await uow.releaseEntitlements(locked.map((grant) => leaseOf(deps, grant)));
  const results = new Map<string, Committed | GrantStatus>(locked.map((grant) => [grant.id, grant.status]));
  const revocable = locked.filter((grant) => canApply(grant, "revoked"));
  const saved = await saveGrants(
    deps,
    uow,
    revocable.map((grant) => ({
      grant,
      transition: transitionGrant(grant, { type: "revoked", retainedByOtherGrants: false }, now),
    })),
  );
  for (const [index, grant] of revocable.entries()) results.set(grant.id, saved[index]!);
  return results;
}
