import type { GrantExpiry, Store } from "../services/ports.js";
import { Prisma } from "./generated/prisma/client.js";
import type { Database } from "./prisma-client.js";

/**
 * Keyset pages through one status by (expiresAt, id): each page is an index range scan on
 * Grant(status, expiresAt, id) starting where the last one ended, however many grants there are.
 */
export function grantExpiryPages(db: Database): Pick<Store, "pageGrantsByExpiry"> {
  return {
    pageGrantsByExpiry({ status, after, until, limit }) {
      return db.$queryRaw<GrantExpiry[]>`
        SELECT "id", "expiresAt", "attempts" FROM "Grant"
        WHERE "status" = CAST(${status} AS "GrantStatus")
          ${after ? Prisma.sql`AND ("expiresAt", "id") > (${after.expiresAt}, ${after.id})` : Prisma.empty}
          ${until ? Prisma.sql`AND "expiresAt" <= ${until}` : Prisma.empty}
        ORDER BY "expiresAt", "id"
        LIMIT ${limit}`;
    },
  };
}
