import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { makeLiveGrants } from "../../bench/live-grants.js";
import type { GrantChange, GrantRow } from "../../src/domain/grant.js";
import { createGrantChangeBus, grantChangeChannel, subscriberName } from "../../src/jobs/grant-changes.js";
import { createProducerRedis, waitUntilReady } from "../../src/jobs/queues.js";
import { autoApprovePolicy } from "../helpers/auto-approve-policy.js";
import { TEST_REDIS_URL, testRedisPrefix } from "../helpers/database.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { waitFor } from "../helpers/wait.js";

/**
 * Grant changes told as they commit: to this process's listeners at once, to the other processes'
 * through Redis (the real one), and only for commits that changed a status or an expiry.
 */

const quiet = { down: () => undefined, up: () => undefined };
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const publisher = createProducerRedis(TEST_REDIS_URL);
publisher.on("error", () => undefined);
afterAll(() => publisher.disconnect());

const change = (id: string, version: number): GrantChange => ({
  id,
  subjectId: "alice",
  resourceId: "db",
  status: "active",
  expiresAt: new Date(Date.UTC(2030, 0, 1, 12, 0, 0, 250)),
  version,
});

describe("the grant change bus", () => {
  it("tells its own listeners at once and the other processes' through one message per turn", async () => {
    await waitUntilReady(publisher, 10_000);
    const prefix = testRedisPrefix("grant_changes");
    const bus = (instanceId: string) =>
      createGrantChangeBus({ publisher, redisUrl: TEST_REDIS_URL, prefix, instanceId, health: quiet, logger });
    const here = bus("here");
    const there = bus("there");
    // Warm-up changes (sent until the other bus hears one) are left out of what is compared.
    const real = (changes: readonly GrantChange[]) => changes.filter((c) => !c.id.startsWith("warm-up"));
    const heardHere: GrantChange[][] = [];
    const heardThere: GrantChange[][] = [];
    let warmUpHeard = false;
    here.listen({ changed: (changes) => void (real(changes).length > 0 && heardHere.push(real(changes))) });
    there.listen({
      changed: (changes) => {
        warmUpHeard ||= changes.some((c) => c.id.startsWith("warm-up"));
        if (real(changes).length > 0) heardThere.push(real(changes));
      },
    });
    // A raw subscriber counts the messages on the channel.
    const spy = new Redis(TEST_REDIS_URL);
    spy.on("error", () => undefined);
    const messages: string[] = [];
    spy.on("message", (_channel, message) => void (message.includes("warm-up") || messages.push(message)));
    await spy.subscribe(grantChangeChannel(prefix));
    // Both buses' subscriptions are under way once a message they send round-trips to themselves.
    try {
      let round = 0;
      await waitFor(async () => {
        round += 1;
        here.committed([change(`warm-up-${round}`, 1)]);
        await new Promise((resolve) => setTimeout(resolve, 50));
        return warmUpHeard;
      }, "the second bus to subscribe");

      // The saved row rides along for this process's listeners only: it never reaches Redis.
      const saved = { id: "g1", receipt: { note: "kept-in-this-process" } } as unknown as GrantRow;
      here.committed([{ ...change("g1", 2), grant: saved }]);
      here.committed([change("g2", 5)]);
      expect(heardHere).toEqual([[{ ...change("g1", 2), grant: saved }], [change("g2", 5)]]);
      await waitFor(
        async () => heardThere.flat().length === 2 && messages.length === 1,
        "the other process and the spy to hear both",
      );
      expect(heardThere).toEqual([[change("g1", 2), change("g2", 5)]]);
      expect(messages).toHaveLength(1);
      expect(messages[0]).not.toContain("kept-in-this-process");
      // Its own message, heard back from Redis, is not told twice.
      expect(heardHere).toHaveLength(2);
    } finally {
      spy.disconnect();
      await here.close();
      await there.close();
    }
  });

  it("ignores a message it cannot read", async () => {
    await waitUntilReady(publisher, 10_000);
    const prefix = testRedisPrefix("grant_changes_garbage");
    const bus = createGrantChangeBus({
      publisher,
      redisUrl: TEST_REDIS_URL,
      prefix,
      instanceId: "me",
      health: quiet,
      logger,
    });
    const heard: GrantChange[][] = [];
    bus.listen({ changed: (changes) => void heard.push([...changes]) });
    try {
      await waitFor(async () => {
        await publisher.publish(grantChangeChannel(prefix), "x\nnot json");
        await publisher.publish(grantChangeChannel(prefix), `x\n${JSON.stringify([{ id: 1 }])}`);
        await publisher.publish(
          grantChangeChannel(prefix),
          `x\n${JSON.stringify([{ ...change("g9", 1), expiresAt: undefined, expiresAtMs: 0 }])}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
        return heard.length > 0;
      }, "the valid message to arrive");
      expect(heard[0]).toEqual([{ ...change("g9", 1), expiresAt: new Date(0) }]);
    } finally {
      await bus.close();
    }
  });
});

describe("a subscription that is cut", () => {
  it("subscribes again, tells its listeners to read again, and hears later changes", async () => {
    await waitUntilReady(publisher, 10_000);
    const prefix = testRedisPrefix("grant_changes_cut");
    const instanceId = `cut-${process.pid}`;
    const bus = (id: string) =>
      createGrantChangeBus({ publisher, redisUrl: TEST_REDIS_URL, prefix, instanceId: id, health: quiet, logger });
    const here = bus(instanceId);
    const there = bus("there");
    let missed = 0;
    const heard: string[] = [];
    here.listen({
      changed: (changes) => void heard.push(...changes.map((c) => c.id)),
      missed: () => {
        missed += 1;
      },
    });
    try {
      await waitFor(async () => missed === 1, "the first subscription");
      const clients = String(await publisher.call("CLIENT", "LIST"));
      const line = clients.split("\n").find((entry) => entry.includes(`name=${subscriberName(instanceId)} `));
      const id = line?.match(/\bid=(\d+)/)?.[1];
      expect(id, clients).toBeDefined();
      await publisher.call("CLIENT", "KILL", "ID", id!);
      await waitFor(async () => missed === 2, "the subscription to come back");
      await waitFor(async () => {
        there.committed([change("after-cut", 3)]);
        await new Promise((resolve) => setTimeout(resolve, 50));
        return heard.includes("after-cut");
      }, "a change told after the cut");
    } finally {
      await here.close();
      await there.close();
    }
  });
});

describe("a Redis that refuses the channel", () => {
  it("says so, naming the ACL, instead of failing silently", async () => {
    await waitUntilReady(publisher, 10_000);
    const user = `sesame_test_nochannel_${process.pid}`;
    // Every command and key, but no pub/sub channel (Redis 7's default for new users).
    await publisher.call("ACL", "SETUSER", user, "on", ">secret-pw", "~*", "+@all", "resetchannels");
    const limited = createProducerRedis(TEST_REDIS_URL.replace("redis://", `redis://${user}:secret-pw@`));
    limited.on("error", () => undefined);
    const warnings: string[] = [];
    const bus = createGrantChangeBus({
      publisher: limited,
      redisUrl: TEST_REDIS_URL,
      prefix: testRedisPrefix("grant_changes_acl"),
      instanceId: "me",
      health: quiet,
      logger: { ...logger, warn: (_fields, message) => void warnings.push(message) },
    });
    try {
      await waitUntilReady(limited, 10_000);
      bus.committed([change("g1", 2)]);
      await waitFor(async () => warnings.length > 0, "the refusal to be logged");
      expect(warnings[0]).toMatch(/refused to publish grant changes.*ACL/);
    } finally {
      await bus.close();
      limited.disconnect();
      await publisher.call("ACL", "DELUSER", user);
    }
  });
});

const policy = autoApprovePolicy("grant change tests");

describe("what the store tells", () => {
  let sesame: TestSesame;
  afterAll(() => sesame?.stop());

  it("tells a committed change of status or expiry, once, and nothing of other updates or of a rollback", async () => {
    sesame = await startSesame("grant_changes_store", { policy, identities: ["alice", "bob"] });
    const { store } = sesame.runtime.deps;
    const [live] = await makeLiveGrants(sesame.runtime.deps, {
      requesterIds: ["alice"],
      resourceId: "app-db",
      durationSeconds: 3_600,
      scheduleRevokes: false,
    });
    const heard: GrantChange[] = [];
    const stop = sesame.runtime.grantChanges.listen({ changed: (changes) => void heard.push(...changes) });
    try {
      await store.transaction(async (uow) => {
        const locked = await uow.lockGrant(live!.id);
        await uow.updateGrant(locked!, { attempts: 4, lastError: "flaky" });
      });
      expect(heard).toEqual([]);

      await expect(
        store.transaction(async (uow) => {
          const locked = await uow.lockGrant(live!.id);
          await uow.updateGrant(locked!, { status: "revoking" });
          throw new Error("rolled back");
        }),
      ).rejects.toThrow("rolled back");
      expect(heard).toEqual([]);

      const expiresAt = new Date(Date.UTC(2031, 0, 1));
      await store.transaction(async (uow) => {
        const locked = await uow.lockGrant(live!.id);
        const moved = await uow.updateGrant(locked!, { expiresAt });
        const [revoking] = await uow.updateGrants([{ current: moved!, patch: { status: "revoking" } }]);
        // A later update that changes neither status nor expiry still moves the version told.
        await uow.updateGrant(revoking!, { attempts: 5 });
      });
      const stored = await store.getGrant(live!.id);
      expect(heard).toEqual([
        {
          id: live!.id,
          subjectId: "alice",
          resourceId: "app-db",
          status: "revoking",
          expiresAt,
          version: stored!.version,
          // The row as saved, for this process's listeners: what a read of it returns now.
          grant: stored,
        },
      ]);
    } finally {
      stop();
    }
  });
});
