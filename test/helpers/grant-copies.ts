import type { Database } from "../../src/storage/prisma-client.js";

/**
 * Inserts `count` copies of a grant, each with its own copy of the grant's request, in one
 * statement: thousands of rows for a test of query plans, without thousands of lifecycles. With
 * `expiringMinutesApart`, copy n expires n times that many minutes after the original. The rows land
 * in random order, as grants updated over time do, not in the order of any index.
 */
export async function copyGrant(
  db: Database,
  grant: { id: string; requestId: string },
  count: number,
  options: { expiringMinutesApart?: number } = {},
): Promise<void> {
  await db.$executeRawUnsafe(
    `WITH copies AS (SELECT n, gen_random_uuid()::text AS request_id, gen_random_uuid()::text AS grant_id
                     FROM generate_series(1, $3::int) AS n),
          requests AS (INSERT INTO "AccessRequest"
                       SELECT (jsonb_populate_record(r, jsonb_build_object('id', c.request_id))).*
                       FROM "AccessRequest" r, copies c WHERE r.id = $1)
     INSERT INTO "Grant"
     SELECT (jsonb_populate_record(g, jsonb_build_object(
               'id', c.grant_id, 'requestId', c.request_id,
               'expiresAt', g."expiresAt" + make_interval(mins => c.n * $4::int)))).*
     FROM "Grant" g, copies c WHERE g.id = $2
     ORDER BY random()`,
    grant.requestId,
    grant.id,
    count,
    options.expiringMinutesApart ?? 0,
  );
}
