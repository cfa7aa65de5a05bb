import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LiveGrant, makeLiveGrants } from "../../bench/live-grants.js";
import type { Connector, RevokeContext } from "../../src/connectors/connector.js";
import { jobId, QUEUE } from "../../src/jobs/queues.js";
import { startSweeper } from "../../src/jobs/sweeper.js";
import { claimsInUse } from "../../src/services/claims-in-use.js";
import type { ServiceDeps } from "../../src/services/deps.js";
import { LEASE_SECONDS } from "../../src/services/deps.js";
import { performRevoke } from "../../src/services/revoke-grant.js";
import { sweep } from "../../src/services/sweep.js";
import { SWEEP_CONCURRENCY } from "../../src/services/sweep-context.js";
import { type PrivateRedis, startPrivateRedis } from "../helpers/private-redis.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";

/**
 * The sweeper with thousands of live grants, against the real database and a Redis of its own:
 * it walks grants by expiry a page at a time (no "newest N" window), restores lost revoke jobs
 * a page per Redis call, revokes overdue grants a bounded number at a time, and runs in one
 * process at a time by a lease row, which another process takes over once it has run out. Time
 * is Sesame's clock moved past the expiries, never a wait.
 */

const HOLDERS = Array.from({ length: 20 }, (_, i) => `holder-${i}`);
const policy = `
version: 1
people:
${[...HOLDERS, "approver"].map((id) => `  - { id: ${id}, email: ${id}@example.com }`).join("\n")}
connectors:
  target: { type: noop }
resources:
  live-db: { connector: target, risk: low }
policies:
  - id: live
    resources: [live-db]
    requesters: { users: [${HOLDERS.join(", ")}] }
    duration: { default: 1h, max: 2h }
    reason: { required: false }
    approvers: { users: [approver] }
    autoApprove: [{ reason: "sweeper tests", resourceRisk: low }]
`;
const HOUR = 3_600_000;

let redis: PrivateRedis;
let sesame: TestSesame;
let client: Redis;

beforeAll(async () => {
  redis = await startPrivateRedis();
  sesame = await startSesame("sweeper_scale", { policy, identities: [], env: { REDIS_URL: redis.url } });
  client = new Redis(redis.url);
});
afterAll(async () => {
  client?.disconnect();
  await sesame?.stop();
  await redis?.stop();
});

/** `count` live grants lasting an hour, made by Sesame's services 250 to a transaction. */
async function liveGrants(count: number, options: { scheduleRevokes: boolean }): Promise<LiveGrant[]> {
  const made: LiveGrant[] = [];
  for (let done = 0; done < count; done += 250) {
    const size = Math.min(250, count - done);
    made.push(
      ...(await makeLiveGrants(sesame.runtime.deps, {
        requesterIds: Array.from({ length: size }, (_, i) => HOLDERS[i % HOLDERS.length]!),
        resourceId: "live-db",
        durationSeconds: 3_600,
        ...options,
      })),
    );
  }
  return made;
}

/** Revokes every live grant left by an earlier test, so each test sweeps only its own. */
async function revokeAllLiveGrants(): Promise<void> {
  await sweep({ ...sesame.runtime.deps, now: () => new Date(Date.now() + 3 * HOUR) });
}

/** A connector that counts the revokes running at once and can hold them until `release()`. */
function countingTarget() {
  let inFlight = 0;
  let release: () => void = () => undefined;
  const gate = { held: false, opened: Promise.resolve() };
  let entered: () => void = () => undefined;
  const firstCall = new Promise<void>((resolve) => {
    entered = resolve;
  });
  const state = { maxInFlight: 0, revoked: new Set<string>() };
  const connector = {
    async revoke(context: RevokeContext) {
      inFlight += 1;
      state.maxInFlight = Math.max(state.maxInFlight, inFlight);
      entered();
      // One turn of the event loop at least, so the calls a sweep starts together overlap.
      await new Promise((resolve) => setImmediate(resolve));
      await gate.opened;
      state.revoked.add(context.grantId);
      inFlight -= 1;
    },
  } as unknown as Connector;
  return {
    state,
    firstCall,
    hold() {
      gate.opened = new Promise<void>((resolve) => {
        release = resolve;
      });
    },
    release: () => release(),
    deps(overrides: Partial<ServiceDeps> = {}): ServiceDeps {
      const base = sesame.runtime.deps;
      return { ...base, connectors: { ...base.connectors, get: () => connector }, ...overrides };
    },
  };
}

const statusCounts = async (ids: readonly string[]) => {
  const grants = await Promise.all(ids.map((id) => sesame.runtime.deps.store.getGrant(id)));
  const counts: Record<string, number> = {};
  for (const grant of grants) counts[grant?.status ?? "missing"] = (counts[grant?.status ?? "missing"] ?? 0) + 1;
  return counts;
};

describe("the sweeper with thousands of live grants", () => {
  // Making 2,000 grants takes a while on a loaded machine: a bound for a hang, not a timing assertion.
  it("restores every revoke job Redis lost in one sweep, each due at its grant's expiry", {
    timeout: 240_000,
  }, async () => {
    await revokeAllLiveGrants();
    const grants = await liveGrants(2_000, { scheduleRevokes: true });
    await sesame.flushRedis();
    expect(await sesame.runtime.deps.jobs.hasRevokeJob(grants[0]!.id)).toBe(false);

    const report = await sesame.started.sweeper!.runOnce();
    expect(report?.revokeJobsRestored).toBe(2_000);
    const pipeline = client.pipeline();
    for (const grant of grants) pipeline.zscore(`${sesame.prefix}:${QUEUE.revokes}:delayed`, jobId.revoke(grant.id));
    const scores = (await pipeline.exec())!.map(([, score]) => Math.floor(Number(score) / 4096));
    expect(scores).toEqual(grants.map((grant) => grant.expiresAt.getTime()));

    expect((await sesame.started.sweeper!.runOnce())?.revokeJobsRestored).toBe(0);
  });

  it("revokes overdue grants page by page, at most SWEEP_CONCURRENCY connector calls at once", async () => {
    await revokeAllLiveGrants();
    const grants = await liveGrants(250, { scheduleRevokes: false });
    const target = countingTarget();
    // Sesame's clock two hours on: every one of them is overdue, and no job is left to revoke it.
    const report = await sweep(target.deps({ now: () => new Date(Date.now() + 2 * HOUR) }));
    expect(report.revokedOverdue).toBe(250);
    expect(report.errors).toBe(0);
    expect(target.state.revoked.size).toBe(250);
    expect(target.state.maxInFlight).toBe(SWEEP_CONCURRENCY);
    expect(await statusCounts(grants.map((grant) => grant.id))).toEqual({ revoked: 250 });
  });
});

describe("one sweeper at a time", () => {
  it("makes a second process wait while the first sweeps and for the rest of its interval, then lets it sweep", async () => {
    await revokeAllLiveGrants();
    const grants = await liveGrants(30, { scheduleRevokes: false });
    const target = countingTarget();
    target.hold();
    const later = () => new Date(Date.now() + 2 * HOUR);
    const first = startSweeper(target.deps({ now: later }), 3_600);
    const sweeping = first.runOnce();
    await target.firstCall;
    // Started while the first holds the lease (a sweeper sweeps once as it starts, too).
    const second = startSweeper(target.deps({ now: later, instanceId: "another-process" }), 3_600);
    try {
      expect(await second.runOnce()).toBeUndefined();
      target.release();
      expect((await sweeping)?.revokedOverdue).toBe(30);
      // Swept for this interval: the first keeps the lease until the interval is over, so the
      // install sweeps once per interval however many processes it runs.
      expect(await second.runOnce()).toBeUndefined();
      // The first process stops and hands the lease on: the other one sweeps now.
      await first.stop();
      expect(await second.runOnce()).toMatchObject({ revokedOverdue: 0, errors: 0 });
    } finally {
      target.release();
      await first.stop();
      await second.stop();
    }
    expect(await statusCounts(grants.map((grant) => grant.id))).toEqual({ revoked: 30 });
  });

  it("takes the lease over once its holder let it run out", async () => {
    const { store } = sesame.runtime.deps;
    // Free, whichever test ran before (a sweep keeps the lease for the rest of its interval).
    await sesame.runtime.db.$executeRaw`DELETE FROM "NamedLease"`;
    expect(await store.takeNamedLease("sweeper", "a-process-that-died", 60)).toBe(true);
    expect(await sesame.started.sweeper!.runOnce()).toBeUndefined();
    // Its holder died and nobody renewed it: the lease runs out on the database's clock.
    await sesame.runtime.db.$executeRaw`UPDATE "NamedLease" SET "expiresAt" = now() - interval '1 second'`;
    expect(await sesame.started.sweeper!.runOnce()).toMatchObject({ errors: 0 });
    // Kept after the sweep for the rest of the interval (1 h here): nobody else sweeps meanwhile.
    expect(
      await sesame.runtime.db
        .$queryRaw`SELECT "owner", "expiresAt" > now() + interval '50 minutes' AS "heldOn" FROM "NamedLease"`,
    ).toEqual([{ owner: sesame.runtime.deps.instanceId, heldOn: true }]);
  });

  it("stops a sweep whose lease another process took over, and sweeps again afterwards", async () => {
    await revokeAllLiveGrants();
    await liveGrants(30, { scheduleRevokes: false });
    const target = countingTarget();
    target.hold();
    const sweeper = startSweeper(target.deps({ now: () => new Date(Date.now() + 2 * HOUR) }), 3_600);
    try {
      const sweeping = sweeper.runOnce();
      await target.firstCall;
      // While the sweep waits on its targets, its lease is lost (it ran out, another process took it).
      await sesame.runtime.db.$executeRaw`UPDATE "NamedLease" SET "owner" = 'another-process'`;
      target.release();
      // The batch under way finishes; the checkpoint after it finds the lease gone and stops the sweep.
      expect(await sweeping).toBeUndefined();
      await sesame.runtime.db.$executeRaw`DELETE FROM "NamedLease"`;
      expect(await sweeper.runOnce()).toMatchObject({ errors: 0 });
    } finally {
      target.release();
      await sweeper.stop();
    }
  });

  it("gives up a sweep when the database fails or stops answering, without blocking the next one", async () => {
    const base = sesame.runtime.deps;
    let now = Date.now();
    let failure: "error" | "hang" | undefined = "error";
    const store = {
      ...base.store,
      pageGrantsByExpiry(query: Parameters<typeof base.store.pageGrantsByExpiry>[0]) {
        if (failure === "error") return Promise.reject(new Error("Connection terminated unexpectedly"));
        // A statement that never returns: the server vanished without closing the connection.
        if (failure === "hang") return new Promise<never>(() => undefined);
        return base.store.pageGrantsByExpiry(query);
      },
    };
    const sweeper = startSweeper({ ...base, store, now: () => new Date(now) }, 3_600);
    try {
      expect(await sweeper.runOnce()).toBeUndefined();
      failure = "hang";
      const stuck = sweeper.runOnce();
      // While the stuck sweep still has time to renew its lease, asking again joins it...
      expect(sweeper.runOnce()).toBe(stuck);
      // ...once a whole lease has passed without progress, a new sweep starts and finishes.
      failure = undefined;
      now += 61_000;
      expect(await sweeper.runOnce()).toMatchObject({ errors: 0 });
    } finally {
      now += 61_000;
      await sweeper.stop();
    }
  });
});

describe("a revoke whose outcome could not be recorded", () => {
  it("lets its claim run out instead of renewing it for ever, and the sweeper finishes the revoke", async () => {
    await revokeAllLiveGrants();
    const [grant] = await liveGrants(1, { scheduleRevokes: false });
    const base = sesame.runtime.deps;
    let transactions = 0;
    // The database goes away just after the connector removed the access: the second commit fails.
    const store: ServiceDeps["store"] = {
      ...base.store,
      transaction: (work, options) => {
        transactions += 1;
        if (transactions === 2) return Promise.reject(new Error("Connection terminated unexpectedly"));
        return base.store.transaction(work, options);
      },
    };
    const later = () => new Date(Date.now() + 2 * HOUR);
    await expect(performRevoke({ ...base, store, now: later }, grant!.id, { finalAttempt: false })).rejects.toThrow(
      /Connection terminated/,
    );
    expect((await base.store.getGrant(grant!.id))?.status).toBe("revoking");
    // Nobody uses the claim any more, so the process's heartbeat no longer renews it...
    expect(claimsInUse(base.instanceId)).not.toContain(grant!.id);
    expect(await base.store.renewLeases(base.instanceId, LEASE_SECONDS, claimsInUse(base.instanceId))).toBe(0);
    // ...and it runs out (the database's clock moved past it), after which the sweeper finishes the revoke.
    await sesame.runtime.db
      .$executeRaw`UPDATE "EntitlementLease" SET "expiresAt" = now() - interval '1 second' WHERE "grantId" = ${grant!.id}`;
    expect((await sweep({ ...base, now: later })).revokedOverdue).toBe(1);
    expect((await base.store.getGrant(grant!.id))?.status).toBe("revoked");
  });
});
