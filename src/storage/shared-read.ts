import { batchWhileBusy } from "../jobs/batch-while-busy.js";
import { isDatabaseUnavailable } from "./database-errors.js";

/**
 * Single-row reads outside a transaction (API calls, jobs) that arrive while others are under way
 * share one statement, as Prisma's findUnique batching did: fifty people polling cost a few round
 * trips and commits, not fifty. One id the database refuses does not fail the others: a batch that
 * fails for anything but an unavailable database is read again id by id. Every caller gets its own
 * copy of the row.
 */
export function sharedRead<T>(readMany: (ids: string[]) => Promise<Map<string, T>>): (id: string) => Promise<T | null> {
  return batchWhileBusy(
    async (ids: string[]): Promise<(T | null)[]> => {
      const found = await readMany([...new Set(ids)]);
      const handedOut = new Set<string>();
      return ids.map((id) => {
        const value = found.get(id);
        if (value === undefined) return null;
        if (handedOut.has(id)) return structuredClone(value);
        handedOut.add(id);
        return value;
      });
    },
    { maxBatch: 100, atOnce: 2, retryAloneWhen: (error) => !isDatabaseUnavailable(error) },
  );
}
