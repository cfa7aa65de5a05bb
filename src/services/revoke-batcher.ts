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
 * Revoke jobs that run at about the same moment share their round trips: a revoke asked for while
 * `batchesAtOnce` batches are under way waits for one of them to end and goes with everything
 * else that arrived meanwhile (up to `maxBatch`). Alone, a revoke starts at once; in a burst, the
 * batches grow by themselves, and a few round trips serve a hundred grants instead of one.
 */
export function createRevokeBatcher(
  deps: ServiceDeps,
  options: { maxBatch: number; batchesAtOnce: number },
): RevokeBatcher {
  const waiting: Waiting[] = [];
  let running = 0;
  const flush = () => {
    while (running < options.batchesAtOnce && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxBatch);
      running += 1;
      revokeGrants(
        deps,
        batch.map((entry) => entry.request),
        { callsAtOnce: batch.length },
      )
        .then((outcomes) => {
          for (const { request, resolve, reject } of batch) {
            const outcome = outcomes.get(request.grantId);
            if (outcome?.status === "fulfilled") resolve(outcome.value);
            else reject(outcome?.reason ?? new Error(`the revoke batch gave no outcome for ${request.grantId}`));
          }
        })
        .catch((error: unknown) => {
          for (const { reject } of batch) reject(error);
        })
        .finally(() => {
          running -= 1;
          flush();
        });
    }
  };
  return {
    revoke(request) {
      return new Promise((resolve, reject) => {
        waiting.push({ request, resolve, reject });
        flush();
      });
    },
  };
}
