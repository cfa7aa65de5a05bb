/**
 * Undo steps (stop a process, drop a database) run in reverse order, once, whether the bench
 * ends normally, fails, is interrupted or runs out of time.
 */
export interface Cleanup {
  defer(what: string, step: () => Promise<unknown>): void;
  /** Runs every step still pending; a failing step is reported and the others still run. */
  run(): Promise<void>;
}

export function createCleanup(report: (message: string) => void): Cleanup {
  const steps: { what: string; step: () => Promise<unknown> }[] = [];
  let running: Promise<void> | undefined;
  return {
    defer: (what, step) => void steps.push({ what, step }),
    run() {
      running ??= (async () => {
        for (let next = steps.pop(); next; next = steps.pop()) {
          try {
            await next.step();
          } catch (error) {
            report(`cleanup: could not ${next.what}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
      })();
      return running;
    },
  };
}
