import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeLiveGrants } from "../../bench/live-grants.js";
import { updateGrantsStatement } from "../../src/storage/grant-batches.js";
import { autoApprovePolicy } from "../helpers/auto-approve-policy.js";
import { copyGrant } from "../helpers/grant-copies.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";

/**
 * A row the transaction holds locked cannot move before the commit, so its update is sent with the
 * next round trip and the saved row is worked out without reading it back: it must be exactly the
 * row the database then holds. A row not held is still updated at once, checked against its version.
 */

const policy = autoApprovePolicy("held-row tests");

let sesame: TestSesame;
beforeAll(async () => {
  sesame = await startSesame("held_rows", { policy, identities: ["alice", "bob"] });
});
afterAll(() => sesame?.stop());

async function liveGrantId(): Promise<string> {
  const [grant] = await makeLiveGrants(sesame.runtime.deps, {
    requesterIds: ["alice"],
    resourceId: "app-db",
    durationSeconds: 3_600,
    scheduleRevokes: false,
  });
  return grant!.id;
}

describe("updates of rows the transaction holds", () => {
  it("returns for a locked grant, updated twice, exactly the row the database holds after the commit", async () => {
    const { store } = sesame.runtime.deps;
    const id = await liveGrantId();
    const expiresAt = new Date(Date.UTC(2031, 0, 2, 3, 4, 5, 678));
    const saved = await store.transaction(async (uow) => {
      const locked = await uow.lockGrant(id);
      const once = await uow.updateGrant(locked!, { expiresAt, receipt: { role: "reader" }, lastError: null });
      return uow.updateGrant(once!, { attempts: 3, sealedSecret: "sealed", receipt: null });
    });
    const stored = await store.getGrant(id);
    expect(saved).toEqual(stored);
    expect(stored).toMatchObject({ expiresAt, receipt: { role: "reader" }, attempts: 3, hasSecret: true });
  });

  it("returns for a locked request exactly the row the database holds after the commit", async () => {
    const { store } = sesame.runtime.deps;
    const grant = await store.getGrant(await liveGrantId());
    const reviewedAt = new Date(Date.UTC(2031, 5, 6, 7, 8, 9, 10));
    const saved = await store.transaction(async (uow) => {
      const locked = await uow.lockRequest(grant!.requestId);
      return uow.updateRequest(locked!, { reviewedAt, reviewedById: "bob", reviewNote: "looked at it" });
    });
    expect(saved).toEqual(await store.getRequest(grant!.requestId));
    expect(saved).toMatchObject({ reviewedAt, reviewedById: "bob", reviewNote: "looked at it" });
  });

  it("still answers null for a grant it does not hold whose version moved on, and changes nothing", async () => {
    const { store } = sesame.runtime.deps;
    const id = await liveGrantId();
    const stale = await store.getGrant(id);
    await store.transaction(async (uow) => uow.updateGrant((await uow.lockGrant(id))!, { attempts: 1 }));
    const outcome = await store.transaction((uow) => uow.updateGrant(stale!, { attempts: 9 }));
    expect(outcome).toBeNull();
    expect(await store.getGrant(id)).toMatchObject({ attempts: 1, version: stale!.version + 1 });
  });

  it("saves a batch of locked grants as the database then holds them", async () => {
    const { store } = sesame.runtime.deps;
    const ids = [await liveGrantId(), await liveGrantId()].sort();
    const revokedAt = new Date(Date.UTC(2031, 1, 2, 3, 4, 5, 6));
    const saved = await store.transaction(async (uow) => {
      const locked = await uow.lockGrants(ids);
      return uow.updateGrants(
        locked.map((current) => ({
          current,
          patch: { status: "revoked" as const, revokedAt, revokeReason: "relinquished", revokedById: "alice" },
        })),
      );
    });
    expect(saved).toEqual(await Promise.all(ids.map((id) => store.getGrant(id))));
  });

  it("looks up the grants it updates by primary key instead of reading the whole table", async () => {
    const { store } = sesame.runtime.deps;
    const grant = (await store.getGrant(await liveGrantId()))!;
    // Three thousand copies of the grant (each with its own request): before ids went in as an
    // array, PostgreSQL read all of them for an update of one, guessing the patches were 100.
    await copyGrant(sesame.runtime.db, grant, 3000);
    await sesame.runtime.db.$executeRawUnsafe(`ANALYZE "Grant"`);
    const { text, values } = updateGrantsStatement([{ current: grant, patch: { attempts: 2 } }]);
    const [explained] = await sesame.runtime.db.$queryRawUnsafe<{ "QUERY PLAN": unknown }[]>(
      `EXPLAIN (FORMAT JSON) ${text}`,
      ...values,
    );
    const scans =
      JSON.stringify(explained?.["QUERY PLAN"]).match(/"Node Type":"[^"]*Scan","[^}]*?"Relation Name":"Grant"/g) ?? [];
    expect(scans.length).toBe(1);
    // An index scan or a bitmap scan of the primary key: anything but reading the whole table.
    expect(scans[0]).not.toMatch(/"Node Type":"Seq Scan"/);
  });
});
