import type { GrantRow } from "../domain/grant.js";
import type { GrantChangeListeners } from "./ports.js";

/**
 * Who waits for which grant to change, in this process: one listener on the change bus for all of
 * them, and a look-up by grant id per change, so ten thousand waiters cost no more per change
 * than one.
 */
export interface GrantWaits {
  /**
   * A wait whose `changed` settles at the first change of the grant heard after the call, when
   * changes may have been missed (every waiter then reads again), when `signal` aborts (the caller
   * gave up), at `stop`, or at `cancel` (the caller stopped waiting for another reason). Undefined
   * when `limit` waiters are waiting already: the caller waits on its own timer.
   */
  nextChange(grantId: string, signal: AbortSignal): ChangeWait | undefined;
  /** True once the process is stopping: reads answer at once instead of waiting. */
  readonly stopping: boolean;
  readonly waiting: number;
  /** Answers every waiting read now (shutdown must not wait for them). */
  stop(): void;
}

export interface ChangeWait {
  /** The grant as saved, when the change was committed in this process; undefined otherwise. */
  changed: Promise<GrantRow | undefined>;
  /** Stops waiting and settles `changed`; nothing stays registered. */
  cancel(): void;
  /** True once a change (or a missed-changes notice) woke it. */
  readonly woken: boolean;
}

export function createGrantWaits(changes: GrantChangeListeners, limit: number): GrantWaits {
  const byGrant = new Map<string, Set<(grant?: GrantRow) => void>>();
  let waiting = 0;
  let listening = false;
  let stopping = false;
  const wakeAll = () => {
    const all = [...byGrant.values()];
    byGrant.clear();
    for (const wakes of all) for (const wake of wakes) wake();
  };
  // From the first wait on: a process nobody waits in needs no subscription.
  const listen = () => {
    listening = true;
    changes.listen({
      changed(heard) {
        for (const change of heard) {
          const wakes = byGrant.get(change.id);
          if (!wakes) continue;
          byGrant.delete(change.id);
          for (const wake of wakes) wake(change.grant);
        }
      },
      missed: wakeAll,
    });
  };
  return {
    get waiting() {
      return waiting;
    },
    get stopping() {
      return stopping;
    },
    stop() {
      stopping = true;
      wakeAll();
    },
    nextChange(grantId, signal) {
      if (waiting >= limit) return undefined;
      if (!listening) listen();
      let cancel: () => void = () => {};
      let woken = false;
      const changed = new Promise<GrantRow | undefined>((resolve) => {
        if (signal.aborted || stopping) return resolve(undefined);
        waiting += 1;
        const settle = (grant?: GrantRow) => {
          waiting -= 1;
          signal.removeEventListener("abort", giveUp);
          resolve(grant);
        };
        const wake = (grant?: GrantRow) => {
          woken = true;
          settle(grant);
        };
        // Not a wake: the caller stopped waiting, so `woken` stays as it was.
        const giveUp = () => {
          const wakes = byGrant.get(grantId);
          if (!wakes?.delete(wake)) return;
          if (wakes.size === 0) byGrant.delete(grantId);
          settle();
        };
        const wakes = byGrant.get(grantId) ?? new Set();
        wakes.add(wake);
        byGrant.set(grantId, wakes);
        signal.addEventListener("abort", giveUp, { once: true });
        cancel = giveUp;
      });
      return {
        changed,
        cancel: () => cancel(),
        get woken() {
          return woken;
        },
      };
    },
  };
}
