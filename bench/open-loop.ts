import { type Spread, spread } from "./stats.js";
import { sleep } from "./wait.js";

/**
 * An open-loop load: call `send` at a fixed rate whatever the answers' latency, as many kubectl
 * users would. Each latency is counted from the moment the call was due, not from when the
 * bench got round to it, so a server that falls behind shows it (no coordinated omission).
 */

export interface OpenLoopResult {
  latency: Spread;
  /** Calls that failed (no answer, or an answer `send` did not accept), by reason. */
  failures: Record<string, number>;
  /** Calls the bench itself sent more than 5 ms after they were due: its own lag, for the report. */
  sentLate: number;
  achievedPerSecond: number;
}

export async function driveOpenLoop(options: {
  perSecond: number;
  durationMs: number;
  /** Resolves to undefined when the answer is right, else a short reason. */
  send: (index: number) => Promise<string | undefined>;
}): Promise<OpenLoopResult> {
  const intervalMs = 1000 / options.perSecond;
  const total = Math.floor((options.durationMs / 1000) * options.perSecond);
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const inFlight: Promise<void>[] = [];
  let sentLate = 0;
  const started = performance.now();
  for (let index = 0; index < total; index++) {
    const due = started + index * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    if (performance.now() - due > 5) sentLate += 1;
    inFlight.push(
      options.send(index).then(
        (problem) => {
          if (problem === undefined) latencies.push(performance.now() - due);
          else failures[problem] = (failures[problem] ?? 0) + 1;
        },
        (error: unknown) => {
          const reason = error instanceof Error ? error.message.slice(0, 80) : String(error);
          failures[reason] = (failures[reason] ?? 0) + 1;
        },
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsedS = (performance.now() - started) / 1000;
  return { latency: spread(latencies), failures, sentLate, achievedPerSecond: latencies.length / elapsedS };
}
