import type { GrantChangeListeners } from "./ports.js";

/**
 * Who waits for which grant to change, in this process: one listener on the change bus for all of
 * them, and a look-up by grant id per change, so ten thousand waiters cost no more per change
 * than one.
 */
export interface GrantWaits {
  /**
   * Settles at the first change of the grant heard after the call, or when `signal` aborts (the
   * caller gave up). Refused with `full` when `limit` waiters are already waiting.
   */
  nextChange(grantId: string, signal: AbortSignal): Promise<void>;
  readonly waiting: number;
}

export class TooManyWaiters extends Error {
  constructor(limit: number) {
    super(`${limit} calls are already waiting for a grant to change`);
  }
}

export function createGrantWaits(changes: GrantChangeListeners, limit: number): GrantWaits {
  const byGrant = new Map<string, Set<() => void>>();
  let waiting = 0;
  let listening = false;
  // From the first wait on: a process nobody waits in needs no subscription.
  const listen = () => {
    listening = true;
    changes.listen((heard) => {
      for (const change of heard) {
        const wakes = byGrant.get(change.id);
        if (!wakes) continue;
        byGrant.delete(change.id);
        for (const wake of wakes) wake();
      }
    });
  };
  return {
    get waiting() {
      return waiting;
    },
    nextChange(grantId, signal) {
      if (waiting >= limit) return Promise.reject(new TooManyWaiters(limit));
      if (!listening) listen();
      return new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        waiting += 1;
        const wake = () => {
          waiting -= 1;
          signal.removeEventListener("abort", giveUp);
          resolve();
        };
        const giveUp = () => {
          const wakes = byGrant.get(grantId);
          if (!wakes?.delete(wake)) return;
          if (wakes.size === 0) byGrant.delete(grantId);
          wake();
        };
        const wakes = byGrant.get(grantId) ?? new Set();
        wakes.add(wake);
        byGrant.set(grantId, wakes);
        signal.addEventListener("abort", giveUp, { once: true });
      });
    },
  };
}
