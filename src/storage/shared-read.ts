import { batchWhileBusy } from "../jobs/batch-while-busy.js";
import { isDatabaseUnavailable } from "./database-errors.js";

type Answer<T> = { value: T | null } | { error: unknown };

/**
 * Single-row reads outside a transaction (API calls, jobs) that arrive while others are under way
 * share one statement, as Prisma's findUnique batching did: fifty people polling cost a few round
 * trips and commits, not fifty. One id the database refuses does not fail the others: a batch that
 * fails for anything but an unavailable database is read again id by id. Every caller gets its own
 * copy of the row.
 */
export function sharedRead<T>(readMany: (ids: string[]) => Promise<Map<string, T>>): (id: string) => Promise<T | null> {
  const readAlone = (id: string): Promise<Answer<T>> =>
    readMany([id]).then(
      (found) => ({ value: found.get(id) ?? null }),
      (error: unknown) => ({ error }),
    );
  const batched = batchWhileBusy(
    async (ids: string[]): Promise<Answer<T>[]> => {
      let found: Map<string, T>;
      try {
        found = await readMany([...new Set(ids)]);
      } catch (error) {
        if (ids.length === 1 || isDatabaseUnavailable(error)) throw error;
        return Promise.all(ids.map(readAlone));
      }
      const handedOut = new Set<string>();
      return ids.map((id) => {
        const value = found.get(id);
        if (value === undefined) return { value: null };
        if (handedOut.has(id)) return { value: structuredClone(value) };
        handedOut.add(id);
        return { value };
      });
    },
    { maxBatch: 100, atOnce: 2 },
  );
  return async (id) => {
    const answer = await batched(id);
    if ("error" in answer) throw answer.error;
    return answer.value;
  };
}
