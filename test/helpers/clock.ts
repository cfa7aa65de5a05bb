/**
 * A clock for a whole test Sesame (its ServiceDeps.now, and the Slack receiver's timestamp
 * window): real time until a test moves it. Tests about deadlines move the clock instead of
 * sleeping until the deadline passes, so they neither wait nor depend on how long a step took.
 */
export interface TestClock {
  now(): Date;
  /** From now on the clock reads `at` plus however much real time has passed since (it keeps ticking). */
  travelTo(at: Date): void;
  /** Stops the clock at `at` (its current reading by default) until reset(); returns that time. */
  freeze(at?: Date): Date;
  /** Back to real time. */
  reset(): void;
}

export function createTestClock(): TestClock {
  let offsetMs = 0;
  let frozen: Date | undefined;
  const now = () => (frozen ? new Date(frozen) : new Date(Date.now() + offsetMs));
  return {
    now,
    travelTo(at) {
      frozen = undefined;
      offsetMs = at.getTime() - Date.now();
    },
    freeze(at) {
      frozen = at ?? now();
      return new Date(frozen);
    },
    reset() {
      frozen = undefined;
      offsetMs = 0;
    },
  };
}
