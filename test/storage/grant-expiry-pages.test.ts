import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeLiveGrants } from "../../bench/live-grants.js";
import { expiryPageStatement, inExpiryOrder } from "../../src/storage/grant-expiry-pages.js";
import { sqlPoolOf } from "../../src/storage/prisma-client.js";
import { autoApprovePolicy } from "../helpers/auto-approve-policy.js";
import { copyGrant } from "../helpers/grant-copies.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";

/**
 * The sweeper walks every live grant in expiry order, a page at a time. Expiries only grow, so
 * statistics taken earlier do not know the newest: each page must still be an index read in
 * order that stops after `limit` rows, not a fetch and sort of every grant after the cursor.
 */

const policy = autoApprovePolicy("expiry page tests");

const KNOWN = 1000;
const LATER = 3000;
let sesame: TestSesame;
let original: { id: string; requestId: string; expiresAt: Date };

beforeAll(async () => {
  sesame = await startSesame("expiry_pages", { policy, identities: ["alice", "bob"] });
  const [live] = await makeLiveGrants(sesame.runtime.deps, {
    requesterIds: ["alice"],
    resourceId: "app-db",
    durationSeconds: 3_600,
    scheduleRevokes: false,
  });
  const grant = (await sesame.runtime.deps.store.getGrant(live!.id))!;
  original = { id: grant.id, requestId: grant.requestId, expiresAt: grant.expiresAt };
  // Statistics of a thousand grants, then thousands expiring later than any they know of.
  await copyGrant(sesame.runtime.db, grant, KNOWN, { expiringMinutesApart: 1 });
  await sesame.runtime.db.$executeRawUnsafe(`ANALYZE "Grant"`);
  const [latest] = await sesame.runtime.db.$queryRawUnsafe<{ id: string; requestId: string }[]>(
    `SELECT id, "requestId" FROM "Grant" ORDER BY "expiresAt" DESC LIMIT 1`,
  );
  await copyGrant(sesame.runtime.db, latest!, LATER, { expiringMinutesApart: 1 });
});
afterAll(() => sesame?.stop());

describe("pages of grants by expiry", () => {
  it("reads a page through the (status, expiresAt, id) index in order, without a bitmap or a sort", async () => {
    const { text, values } = expiryPageStatement({
      status: "active",
      after: { expiresAt: new Date(original.expiresAt.getTime() + (KNOWN - 10) * 60_000), id: "" },
      limit: 1000,
    });
    // Explained exactly as the store sends it: in its own transaction, under the same settings.
    const [explained] = await inExpiryOrder<{ "QUERY PLAN": unknown }>(
      sqlPoolOf(sesame.runtime.db),
      `EXPLAIN (FORMAT JSON) ${text}`,
      values,
    );
    const plan = JSON.stringify(explained?.["QUERY PLAN"]);
    expect(plan).toMatch(/"Node Type":"Index (Only )?Scan"[^}]*"Index Name":"Grant_status_expiresAt_id_idx"/);
    expect(plan).not.toMatch(/"Node Type":"(Sort|Bitmap Heap Scan|Seq Scan)"/);
  });

  it("walks on from the cursor in expiry order, a page at a time", async () => {
    const { store } = sesame.runtime.deps;
    const page = await store.pageGrantsByExpiry({
      status: "active",
      after: { expiresAt: original.expiresAt, id: original.id },
      limit: 100,
    });
    expect(page).toHaveLength(100);
    const minutesLater = page.map((grant) => (grant.expiresAt.getTime() - original.expiresAt.getTime()) / 60_000);
    expect(minutesLater).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const next = await store.pageGrantsByExpiry({ status: "active", after: page.at(-1)!, limit: 100 });
    expect((next[0]!.expiresAt.getTime() - original.expiresAt.getTime()) / 60_000).toBe(101);
  });

  it("stops at `until`, the cursor left out", async () => {
    const until = new Date(original.expiresAt.getTime() + 5 * 60_000);
    const page = await sesame.runtime.deps.store.pageGrantsByExpiry({ status: "active", until, limit: 100 });
    expect(page.map((grant) => grant.id)[0]).toBe(original.id);
    expect(page).toHaveLength(6);
    expect(page.every((grant) => grant.expiresAt <= until && Number.isInteger(grant.attempts))).toBe(true);
  });
});
