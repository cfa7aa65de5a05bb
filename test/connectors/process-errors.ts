import { expect } from "vitest";

/**
 * Records what would end a Sesame process: an uncaught exception (an 'error' event that nobody
 * listens to is thrown as one, from inside a socket callback) or an unhandled rejection. vitest
 * would report one too, but after the fact and against no test in particular; recorded here, the
 * test whose connection cut caused it fails by name, with the error.
 */
export interface ProcessErrorWatch {
  /** Fails the test if anything was recorded, then stops watching. */
  expectNone(): void;
  stop(): void;
}

export function watchProcessErrors(): ProcessErrorWatch {
  const seen: string[] = [];
  const onException = (error: unknown) => seen.push(`uncaughtException: ${describe(error)}`);
  const onRejection = (reason: unknown) => seen.push(`unhandledRejection: ${describe(reason)}`);
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);
  const stop = () => {
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  };
  return {
    expectNone() {
      stop();
      expect(seen, "the process would have crashed").toEqual([]);
    },
    stop,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
