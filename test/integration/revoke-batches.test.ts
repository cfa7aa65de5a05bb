import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LiveGrant, makeLiveGrants } from "../../bench/live-grants.js";
import type { Connector, RevokeContext } from "../../src/connectors/connector.js";
import { AppError } from "../../src/domain/errors.js";
import type { ServiceDeps } from "../../src/services/deps.js";
import { isEntitlementBusy } from "../../src/services/entitlement-lease.js";
import { createRevokeBatcher } from "../../src/services/revoke-batcher.js";
import { revokeGrants } from "../../src/services/revoke-grants.js";
import { autoApprovePolicy } from "../helpers/auto-approve-policy.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";

/**
 * Revokes that run at the same moment are done as one batch: one commit claims them all, the
 * connector calls run in between, one commit records them. Each grant still gets its own outcome,
 * decided by the grant machine as a revoke of one grant would be.
 */

const policy = autoApprovePolicy("batch tests");
const HOUR = 3_600_000;

let sesame: TestSesame;
beforeAll(async () => {
  sesame = await startSesame("revoke_batches", { policy, identities: ["alice", "bob"] });
});
afterAll(() => sesame?.stop());

/** Grants whose entitlement is `key` (several grants of one access share it), lasting `hours`. */
async function grantsOf(key: string, count: number, hours: number): Promise<LiveGrant[]> {
  const base = sesame.runtime.deps;
  const deps: ServiceDeps = { ...base, connectors: { ...base.connectors, entitlementKeyFor: () => key } };
  return makeLiveGrants(deps, {
    requesterIds: Array.from({ length: count }, () => "alice"),
    resourceId: "app-db",
    durationSeconds: hours * 3_600,
    scheduleRevokes: false,
  });
}

describe("a batch of revokes", () => {
  it("gives each grant its own outcome, in three commits for the whole batch", async () => {
    const [sharedDue] = await grantsOf("shared:a", 1, 1);
    const [sharedLater] = await grantsOf("shared:a", 1, 2);
    const [pairFirst, pairSecond] = await grantsOf("shared:b", 2, 1);
    const [plain] = await grantsOf("apart:1", 1, 1);
    const [failing] = await grantsOf("apart:2", 1, 1);
    const base = sesame.runtime.deps;
    const called: string[] = [];
    const target = {
      async revoke(context: RevokeContext) {
        if (context.grantId === failing!.id) throw new AppError("connector_failed", "the target is down");
        called.push(context.grantId);
      },
    } as unknown as Connector;
    let commits = 0;
    const deps: ServiceDeps = {
      ...base,
      connectors: { ...base.connectors, get: () => target },
      store: {
        ...base.store,
        transaction: (work, options) => {
          commits += 1;
          return base.store.transaction(work, options);
        },
      },
      // Ninety minutes on: the one-hour grants are due, the two-hour one is not.
      now: () => new Date(Date.now() + 1.5 * HOUR),
    };
    const ids = [sharedDue, sharedLater, pairFirst, pairSecond, plain, failing].map((grant) => grant!.id);
    const outcomes = await revokeGrants(
      deps,
      [...ids, "no-such-grant"].map((grantId) => ({ grantId, finalAttempt: false })),
      { callsAtOnce: 10 },
    );
    const value = (id: string) => {
      const outcome = outcomes.get(id);
      return outcome?.status === "fulfilled" ? outcome.value : outcome?.reason;
    };

    // Another active grant holds the same access: no call, it goes when that one does (invariant 6).
    expect(value(sharedDue!.id)).toMatchObject({ kind: "revoked", retainedByOtherGrants: true });
    expect(value(sharedLater!.id)).toMatchObject({ kind: "not_due" });
    // Two grants of one access due together: one call at a time per access, so one of them waits
    // for a retry; the other still sees an active holder and goes without a call.
    const pair = [value(pairFirst!.id), value(pairSecond!.id)];
    expect(pair.filter((outcome) => outcome?.kind === "revoked" && outcome.retainedByOtherGrants)).toHaveLength(1);
    expect(pair.filter((outcome) => isEntitlementBusy(outcome))).toHaveLength(1);
    expect(value(plain!.id)).toMatchObject({ kind: "revoked", retainedByOtherGrants: false });
    expect(value(failing!.id)).toBeInstanceOf(AppError);
    expect(value("no-such-grant")).toEqual({ kind: "skipped", status: "missing" });
    expect(called).toEqual([plain!.id]);
    // Claim, record, and the failed call's own record.
    expect(commits).toBe(3);

    const status = async (grant: LiveGrant | undefined) => (await base.store.getGrant(grant!.id))?.status;
    expect(await status(failing)).toBe("revoking");
    expect((await base.store.getGrant(failing!.id))?.lastError).toMatch(/the target is down/);
    expect(await status(sharedLater)).toBe("active");

    // The grant that waited is the last holder of its access now: its retry calls the target.
    const waited = [pairFirst!, pairSecond!].find((grant) => isEntitlementBusy(value(grant.id)))!;
    const retry = await revokeGrants(deps, [{ grantId: waited.id, finalAttempt: false }], { callsAtOnce: 1 });
    expect(retry.get(waited.id)).toMatchObject({ status: "fulfilled", value: { retainedByOtherGrants: false } });
    expect(called).toEqual([plain!.id, waited.id]);
  });

  it("answers each revoke as soon as its own grant is done: a slow target holds up no one else", async () => {
    const slow = (await grantsOf("apart:slow", 1, 1))[0]!;
    const fast = [...(await grantsOf("apart:fast-1", 1, 1)), ...(await grantsOf("apart:fast-2", 1, 1))];
    const base = sesame.runtime.deps;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const target = {
      async revoke(context: RevokeContext) {
        if (context.grantId === slow.id) await held;
      },
    } as unknown as Connector;
    const deps: ServiceDeps = {
      ...base,
      connectors: { ...base.connectors, get: () => target },
      now: () => new Date(Date.now() + 1.5 * HOUR),
    };
    const batcher = createRevokeBatcher(deps, { maxBatch: 10, claimsAtOnce: 1 });
    // The first revoke goes alone; the three asked for while it is being claimed make one batch.
    const first = batcher.revoke({ grantId: "no-such-grant", finalAttempt: false });
    const slowOne = batcher.revoke({ grantId: slow.id, finalAttempt: false });
    const fastOnes = fast.map((grant) => batcher.revoke({ grantId: grant.id, finalAttempt: false }));
    expect(await first).toEqual({ kind: "skipped", status: "missing" });
    expect((await Promise.all(fastOnes)).map((result) => result.kind)).toEqual(["revoked", "revoked"]);
    // Its batch was claimed, so the batcher takes more work while the slow target still holds its call.
    const [later] = await grantsOf("apart:later", 1, 1);
    expect(await batcher.revoke({ grantId: later!.id, finalAttempt: false })).toMatchObject({ kind: "revoked" });
    expect((await base.store.getGrant(slow.id))?.status).toBe("revoking");
    release();
    expect(await slowOne).toMatchObject({ kind: "revoked" });
  });
});
