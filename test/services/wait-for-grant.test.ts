import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { GrantRow, GrantStatus } from "../../src/domain/grant.js";
import type { ServiceDeps } from "../../src/services/deps.js";
import { createGrantWaits } from "../../src/services/grant-waits.js";
import type { GrantChangeListener, GrantChangeListeners } from "../../src/services/ports.js";
import { waitForGrant } from "../../src/services/wait-for-grant.js";

/**
 * A read that waits for a grant's status, with a stand-in bus and store and fake timers: an answer
 * that comes while no timer has been moved can only have come from a change heard.
 */

function fakeBus() {
  const listeners = new Set<GrantChangeListener>();
  const bus: GrantChangeListeners = {
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const tell = (id: string, status: GrantStatus, version: number, saved?: GrantRow) => {
    const change = { id, subjectId: "alice", resourceId: "db", status, expiresAt: new Date(0), version, grant: saved };
    for (const listener of listeners) listener.changed([change]);
  };
  const missed = () => {
    for (const listener of listeners) listener.missed?.();
  };
  return { bus, tell, missed };
}

function grant(id: string, status: GrantStatus, version = 1): GrantRow {
  return { id, subjectId: "alice", status, version } as GrantRow;
}

let rows: Map<string, GrantRow>;
let reads: number;
let deps: Pick<ServiceDeps, "store" | "policy" | "grantWaits">;
let tell: (id: string, status: GrantStatus, version: number, saved?: GrantRow) => void;
let missed: () => void;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date", "performance"] });
  rows = new Map([["g1", grant("g1", "scheduled")]]);
  reads = 0;
  const fake = fakeBus();
  tell = fake.tell;
  missed = fake.missed;
  deps = {
    store: {
      getGrant: async (id: string) => {
        reads += 1;
        return rows.get(id) ?? null;
      },
    } as unknown as ServiceDeps["store"],
    policy: (() => ({ isAdmin: (who: string) => who === "dave" })) as unknown as ServiceDeps["policy"],
    grantWaits: createGrantWaits(fake.bus, 3),
  };
});
afterEach(() => vi.useRealTimers());

const wait = (overrides: Partial<Parameters<typeof waitForGrant>[1]> = {}) =>
  waitForGrant(deps, {
    grantId: "g1",
    actorId: "alice",
    until: ["active"],
    waitMs: 30_000,
    signal: new AbortController().signal,
    ...overrides,
  });

/** Lets the waiter's read and registration run (microtasks only: no timer moves). */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe("waiting for a grant's status", () => {
  it("answers at once when the grant already has the status, or can no longer reach it", async () => {
    rows.set("g1", grant("g1", "active"));
    await expect(wait()).resolves.toMatchObject({ status: "active" });
    for (const status of ["revoked", "grant_failed", "revoking", "revoke_failed"] as const) {
      rows.set("g1", grant("g1", status));
      await expect(wait(), status).resolves.toMatchObject({ status });
    }
    expect(deps.grantWaits!.waiting).toBe(0);
  });

  it("reads again when changes may have been missed (the subscription started or came back)", async () => {
    let answer: GrantRow | undefined;
    void wait().then((grant) => (answer = grant));
    await settle();
    rows.set("g1", grant("g1", "active", 2));
    missed();
    await settle();
    expect(answer).toMatchObject({ status: "active" });
  });

  it("answers every waiting read at once when the process stops, and waits no more", async () => {
    let answer: GrantRow | undefined;
    void wait().then((grant) => (answer = grant));
    await settle();
    deps.grantWaits!.stop();
    await settle();
    expect(answer).toMatchObject({ status: "scheduled" });
    await expect(wait()).resolves.toMatchObject({ status: "scheduled" });
    expect(deps.grantWaits!.waiting).toBe(0);
  });

  it("wakes on a change of its grant, not of another, and answers the grant read again", async () => {
    let answer: GrantRow | undefined;
    void wait().then((grant) => (answer = grant));
    await settle();
    expect(deps.grantWaits!.waiting).toBe(1);

    tell("g2", "active", 2);
    await settle();
    expect(answer).toBeUndefined();

    rows.set("g1", grant("g1", "active", 2));
    tell("g1", "active", 2);
    await settle();
    expect(answer).toMatchObject({ status: "active", version: 2 });
    expect(deps.grantWaits!.waiting).toBe(0);
  });

  it("answers from the row a change committed in this process carries, without reading again", async () => {
    let answer: GrantRow | undefined;
    void wait().then((grant) => (answer = grant));
    await settle();
    const readsBefore = reads;
    tell("g1", "active", 2, grant("g1", "active", 2));
    await settle();
    expect(answer).toMatchObject({ status: "active", version: 2 });
    expect(reads).toBe(readsBefore);
  });

  it("reads again, rather than trust a change's row, when the change came while its read was under way", async () => {
    // The first read is held back until the test lets it go.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const getGrant = deps.store.getGrant;
    let first = true;
    deps.store.getGrant = async (id: string) => {
      if (first) {
        first = false;
        const before = rows.get(id) ?? null;
        await held;
        return before;
      }
      return getGrant(id);
    };
    let answer: GrantRow | undefined;
    void wait().then((grant) => (answer = grant));
    await settle();
    // During the read: a change here (v2, still scheduled) wakes it, then one whose notice is lost (v3, active).
    tell("g1", "scheduled", 2, grant("g1", "scheduled", 2));
    rows.set("g1", grant("g1", "active", 3));
    release();
    await settle();
    // No timer moved: only reading again finds v3.
    expect(answer).toMatchObject({ status: "active", version: 3 });
  });

  it("checks who may see a grant also when it answers from a change's row", async () => {
    const answer = wait();
    await settle();
    // A row alice may not see (not hers, and she is no admin) is refused as a read would refuse it.
    tell("g1", "active", 2, { ...grant("g1", "active", 2), subjectId: "carol" });
    await expect(answer).rejects.toMatchObject({ code: "not_found" });
  });

  it("waits again after a change to a status it does not want", async () => {
    rows.set("g1", grant("g1", "active"));
    let answer: GrantRow | undefined;
    void wait({ until: ["revoked"] }).then((grant) => (answer = grant));
    await settle();
    rows.set("g1", grant("g1", "revoking", 2));
    tell("g1", "revoking", 2);
    await settle();
    expect(answer).toBeUndefined();
    expect(deps.grantWaits!.waiting).toBe(1);
    rows.set("g1", grant("g1", "revoked", 3));
    tell("g1", "revoked", 3);
    await settle();
    expect(answer).toMatchObject({ status: "revoked", version: 3 });
  });

  it("reads the grant again every 5 s in case a change was never told", async () => {
    let answer: GrantRow | undefined;
    void wait().then((grant) => (answer = grant));
    await settle();
    const before = reads;
    rows.set("g1", grant("g1", "active", 2));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(answer).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(reads).toBe(before + 1);
    expect(answer).toMatchObject({ status: "active" });
  });

  it("answers the grant as it stands when the time is up", async () => {
    let answer: GrantRow | undefined;
    void wait({ waitMs: 7_000 }).then((grant) => (answer = grant));
    await vi.advanceTimersByTimeAsync(6_999);
    expect(answer).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(answer).toMatchObject({ status: "scheduled" });
    expect(deps.grantWaits!.waiting).toBe(0);
  });

  it("stops waiting, and keeps no waiter, when the caller hangs up", async () => {
    const hangUp = new AbortController();
    const answer = wait({ signal: hangUp.signal });
    await settle();
    expect(deps.grantWaits!.waiting).toBe(1);
    hangUp.abort();
    await expect(answer).resolves.toMatchObject({ status: "scheduled" });
    expect(deps.grantWaits!.waiting).toBe(0);
  });

  it("past the limit of waiters, waits on its own timer, reading again every 5 s", async () => {
    for (let i = 0; i < 3; i += 1) void wait();
    await settle();
    expect(deps.grantWaits!.waiting).toBe(3);
    let answer: GrantRow | undefined;
    void wait().then((grant) => (answer = grant));
    await settle();
    expect(deps.grantWaits!.waiting).toBe(3);
    rows.set("g1", grant("g1", "active", 2));
    tell("g1", "active", 2);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(answer).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(answer).toMatchObject({ status: "active" });
  });

  it("shows nothing of a grant the caller may not see, and everything to an admin", async () => {
    await expect(wait({ actorId: "bob" })).rejects.toMatchObject({ code: "not_found" });
    expect(deps.grantWaits!.waiting).toBe(0);
    rows.set("g1", grant("g1", "active"));
    await expect(wait({ actorId: "dave" })).resolves.toMatchObject({ status: "active" });
  });
});
