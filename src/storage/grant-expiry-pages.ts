import type { ExpiryPageQuery, GrantExpiry, Store } from "../services/ports.js";
import type { SqlPool } from "./sql.js";

/**
 * Settings for the page's own transaction: it must walk Grant(status, expiresAt, id) in order and
 * stop after `limit` rows. Expiries only grow, so the statistics of the last ANALYZE rarely know
 * the newest ones; PostgreSQL then guessed a few dozen live grants after the cursor where there
 * were 100,000, and fetched all of them through a bitmap and sorted them for every page of 1,000
 * (the sweeper walks every live grant every sweep). Without a bitmap or a sort to choose, the
 * index read in order is all that is left.
 */
const EXPIRY_PAGE_SETTINGS = ["SET LOCAL enable_bitmapscan = off", "SET LOCAL enable_sort = off"] as const;

/** As long as the longest statement timeout allowed (SESAME_DB_STATEMENT_TIMEOUT): that one decides. */
const PAGE_TIMEOUT_MS = 600_000;

/** One page of grants of one status, in expiry order: the statement and its values. */
export function expiryPageStatement(query: ExpiryPageQuery): { text: string; values: unknown[] } {
  const values: unknown[] = [query.status];
  const where = [`"status" = $1::"GrantStatus"`];
  if (query.after) {
    values.push(query.after.expiresAt, query.after.id);
    where.push(`("expiresAt", "id") > ($${values.length - 1}::timestamp(3), $${values.length}::text)`);
  }
  if (query.until) {
    values.push(query.until);
    where.push(`"expiresAt" <= $${values.length}::timestamp(3)`);
  }
  values.push(query.limit);
  return {
    text: `SELECT "id", "expiresAt", "attempts" FROM "Grant" WHERE ${where.join(" AND ")}
      ORDER BY "expiresAt", "id" LIMIT $${values.length}::int`,
    values,
  };
}

/**
 * Keyset pages through one status by (expiresAt, id): each page is an index range scan on
 * Grant(status, expiresAt, id) starting where the last one ended, however many grants there are.
 */
export function grantExpiryPages(pool: SqlPool): Pick<Store, "pageGrantsByExpiry"> {
  return {
    pageGrantsByExpiry(query) {
      const { text, values } = expiryPageStatement(query);
      return inExpiryOrder<GrantExpiry>(pool, text, values);
    },
  };
}

/** Runs a statement under EXPIRY_PAGE_SETTINGS: they ride with it in one round trip, the COMMIT in a second. */
export function inExpiryOrder<R>(pool: SqlPool, text: string, values: readonly unknown[]): Promise<R[]> {
  return pool.transaction(
    (sql) => {
      for (const setting of EXPIRY_PAGE_SETTINGS) sql.later(setting);
      return sql.rows<R>(text, values);
    },
    { timeoutMs: PAGE_TIMEOUT_MS },
  );
}
