import type { ServiceDeps } from "./deps.js";
import { type RevokeRequest, type RevokeResult, revokeGrants } from "./revoke-grants.js";

/** Hands revokes to `revokeGrants` in batches; each caller still gets its own grant's outcome. */
export interface RevokeBatcher {
  revoke(request: RevokeRequest): Promise<RevokeResult>;
}

interface Waiting {
  request: RevokeRequest;
  resolve(result: RevokeResult): void;
  reject(reason: unknown): void;
}

/**
 * Revoke jobs that run at about the same moment share their round trips: a revoke asked for
 * while `claimsAtOnce` batches are being claimed waits for one of those claims to commit and goes
 * with everything else that arrived meanwhile (up to `maxBatch`). Alone, a revoke starts at once;
 * in a burst, the batches grow by themselves, and a few round trips serve a hundred grants
 * instead of one. A batch stops counting once claimed, and each revoke is answered as soon as its
 * own outcome is known: a slow target never holds up revokes of other grants.
 */
export function createRevokeBatcher(
  deps: ServiceDeps,
  options: { maxBatch: number; claimsAtOnce: number },
): RevokeBatcher {
  const waiting: Waiting[] = [];
  let claiming = 0;
  const next = () => {
    while (claiming < options.claimsAtOnce && waiting.length > 0) {
      // Keyed by grant: a grant asked for twice (rare) gets one revoke and both callers its outcome.
      const batch = new Map<string, Waiting[]>();
      for (const entry of waiting.splice(0, options.maxBatch))
        batch.set(entry.request.grantId, [...(batch.get(entry.request.grantId) ?? []), entry]);
      const answer = (grantId: string, outcome: PromiseSettledResult<RevokeResult>) => {
        for (const entry of batch.get(grantId) ?? []) {
          if (outcome.status === "fulfilled") entry.resolve(outcome.value);
          else entry.reject(outcome.reason);
        }
        batch.delete(grantId);
      };
      const rejectUnanswered = (reason: unknown) => {
        for (const grantId of [...batch.keys()]) answer(grantId, { status: "rejected", reason });
      };
      claiming += 1;
      let claimed = false;
      const release = () => {
        if (claimed) return;
        claimed = true;
        claiming -= 1;
        next();
      };
      revokeGrants(
        deps,
        [...batch.values()].map(([first]) => first!.request),
        { callsAtOnce: batch.size, claimed: release, settled: answer },
      )
        .then(
          () => rejectUnanswered(new Error("the revoke batch ended without an outcome for this grant")),
          rejectUnanswered,
        )
        .finally(release);
    }
  };
  return {
    revoke(request) {
      return new Promise((resolve, reject) => {
        waiting.push({ request, resolve, reject });
        next();
      });
    },
  };
}
