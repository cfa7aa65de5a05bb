import { fileURLToPath } from "node:url";
import { z } from "zod";
import { withClient } from "./bench-database.js";
import { type ChildExit, describeExit, type ManagedChild, startChild } from "./child-process.js";

/**
 * The floor of "two processes / one": the same plain node-postgres workload at the same total
 * concurrency and with as many connections, once from one Node process and once split between two. On a machine whose cores
 * are all busy, a second process adds no cores, only its own event loop, connections and
 * wake-ups; this shows what that split costs by itself, next to what it costs Sesame.
 */

export interface SplitFloor {
  /** Operations (one transaction and one read) per second from one process... */
  oneProcess: number;
  /** ...and from two processes, each with half the loops. */
  twoProcesses: number;
  /** Node CPU (all the loop processes) per operation, one process and two. */
  cpuMsPerOperation: { oneProcess: number; twoProcesses: number };
}

const LOOP_SCRIPT = fileURLToPath(new URL("./split-floor-loop.ts", import.meta.url));
/** A loop process that has not said "ready" by then (tsx compiles it, it connects) fails the floor. */
const READY_TIMEOUT_MS = 60_000;
const Result = z.object({ operations: z.number(), seconds: z.number().positive(), cpuMs: z.number() });

export async function measureSplitFloor(
  databaseUrl: string,
  options: { concurrency: number; seconds: number },
): Promise<SplitFloor> {
  await withClient(databaseUrl, async (client) => {
    await client.query("CREATE TABLE bench_split_floor (id int PRIMARY KEY, v bigint NOT NULL DEFAULT 0)");
    await client.query("INSERT INTO bench_split_floor (id) SELECT g FROM generate_series(0, $1::int) g", [
      options.concurrency,
    ]);
    await client.query("CREATE TABLE bench_split_floor_log (id bigserial PRIMARY KEY, row_id int NOT NULL)");
  });
  try {
    const one = await runLoops(databaseUrl, [options.concurrency], options.seconds);
    const half = Math.ceil(options.concurrency / 2);
    const two = await runLoops(databaseUrl, [half, options.concurrency - half], options.seconds);
    return {
      oneProcess: one.perSecond,
      twoProcesses: two.perSecond,
      cpuMsPerOperation: { oneProcess: one.cpuMsPerOperation, twoProcesses: two.cpuMsPerOperation },
    };
  } finally {
    await withClient(databaseUrl, (client) => client.query("DROP TABLE bench_split_floor, bench_split_floor_log"));
  }
}

interface LoopProcess {
  child: ManagedChild;
  ready: Promise<void>;
  /** Its JSON line once it exited; rejects if it failed. */
  result: Promise<z.infer<typeof Result>>;
}

/** One loop process per entry of `loopsPerProcess`, started together once all are ready. */
async function runLoops(
  databaseUrl: string,
  loopsPerProcess: readonly number[],
  seconds: number,
): Promise<{ perSecond: number; cpuMsPerOperation: number }> {
  // Each process has rows of its own: the first row of each is the sum of the loops before it.
  const firstRows = loopsPerProcess.map((_, index) => loopsPerProcess.slice(0, index).reduce((a, b) => a + b, 0));
  const loops: LoopProcess[] = [];
  try {
    for (const [index, count] of loopsPerProcess.entries())
      loops.push(await startLoop(databaseUrl, index, [count, firstRows[index]!, seconds]));
    await Promise.all(loops.map((loop) => loop.ready));
    for (const loop of loops) process.kill(loop.child.pid, "SIGUSR2");
    const results = await Promise.all(loops.map((loop) => loop.result));
    const operations = results.reduce((sum, r) => sum + r.operations, 0);
    return {
      // Each process's own rate, summed: their windows start together and last as long.
      perSecond: results.reduce((sum, r) => sum + r.operations / r.seconds, 0),
      cpuMsPerOperation: results.reduce((sum, r) => sum + r.cpuMs, 0) / Math.max(1, operations),
    };
  } finally {
    // After a failure the others would go on holding their rows (and the tables' DROP) alone.
    await Promise.all(loops.map((loop) => loop.child.stop(5_000)));
  }
}

async function startLoop(
  databaseUrl: string,
  index: number,
  [count, firstRow, seconds]: [number, number, number],
): Promise<LoopProcess> {
  let lastLine = "";
  let saidReady: () => void = () => undefined;
  const said = new Promise<void>((resolve) => {
    saidReady = resolve;
  });
  const child = await startChild(
    `split floor ${index + 1}`,
    process.execPath,
    ["--import", "tsx", LOOP_SCRIPT, databaseUrl, String(count), String(firstRow), String(seconds)],
    {
      onLine: (text, stream) => {
        if (stream !== "stdout") return;
        if (text === "ready") saidReady();
        else lastLine = text;
      },
    },
  );
  const failed = (exit: ChildExit) => new Error(`split floor: a loop process ${describeExit(exit)}:\n${child.tail()}`);
  const result = child.exited.then((exit) => {
    if (exit.code !== 0) throw failed(exit);
    return Result.parse(JSON.parse(lastLine));
  });
  // Handled here too, so a failure before the others are ready is not an unhandled rejection.
  result.catch(() => undefined);
  const ready = Promise.race([
    said,
    child.exited.then((exit) => Promise.reject(failed(exit))),
    new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error("split floor: a loop process was not ready in time")),
        READY_TIMEOUT_MS,
      ).unref(),
    ),
  ]);
  ready.catch(() => undefined);
  return { child, ready, result };
}
