import type { Store } from "../services/ports.js";
import type { Database } from "./prisma-client.js";

/**
 * Named leases (the sweeper's "one process at a time"): one row per name, counted on the
 * database's clock like the entitlement leases, so the clocks of several hosts never disagree.
 */
export function namedLeases(db: Database): Pick<Store, "takeNamedLease" | "releaseNamedLease"> {
  return {
    async takeNamedLease(name, owner, ttlSeconds) {
      // Taken when free, renewed by its own owner, taken over once the holder let it run out.
      const rows = await db.$queryRaw<{ owner: string }[]>`
        INSERT INTO "NamedLease" ("name", "owner", "expiresAt")
        VALUES (${name}, ${owner}, now() + make_interval(secs => ${ttlSeconds}))
        ON CONFLICT ("name") DO UPDATE SET "owner" = EXCLUDED."owner", "expiresAt" = EXCLUDED."expiresAt"
        WHERE "NamedLease"."owner" = EXCLUDED."owner" OR "NamedLease"."expiresAt" <= now()
        RETURNING "owner"`;
      return rows.length === 1;
    },
    async releaseNamedLease(name, owner) {
      await db.namedLease.deleteMany({ where: { name, owner } });
    },
  };
}
