import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { type ChildExit, describeExit, type ManagedChild, startChild } from "./child-process.js";
import { processCpuMs, processSyscalls } from "./proc-stat.js";
import { waitUntil } from "./wait.js";

export type SesameRole = "all" | "web" | "worker";

/** What a Sesame process logged at warn level or above (pino levels 40+), and on stderr. */
export interface LogSummary {
  warnings: number;
  errors: number;
  stderrLines: number;
  /** The first few distinct messages, for the report. */
  samples: string[];
}

/** One `node dist/main.js` the bench started. */
export interface SesameProcess {
  role: SesameRole;
  child: ManagedChild;
  /** CPU time it has used so far (all threads), in milliseconds. */
  cpuMs(): number;
  /** Read and write system calls it has made so far. */
  syscalls(): { reads: number; writes: number };
  logs(): LogSummary;
  stop(): Promise<ChildExit>;
}

const MAX_SAMPLES = 8;

// Variables of the bench's own environment that would change what Sesame does (a chat platform,
// on-call, another database): the child gets only what the bench sets.
const INHERITED_BUT_NOT_PASSED =
  /^(SESAME_|SLACK_|TEAMS_|PAGERDUTY_|OPSGENIE_|DATABASE_URL$|REDIS_URL$|PORT$|HOST$|LOG_LEVEL$|NODE_ENV$)/;

/** The checkout's compiled server; the bench never builds it. */
export function sesameMain(root: string): string {
  return join(root, "dist", "main.js");
}

/**
 * Why dist/ cannot be used as it is, or undefined. A dist/ older than src/ still runs, but
 * measures yesterday's code: that is worth a warning, not a refusal.
 */
export function distProblem(root: string): { fatal: boolean; message: string } | undefined {
  const main = sesameMain(root);
  if (!existsSync(main)) return { fatal: true, message: `${main} is missing: run \`npm run build\` first.` };
  const newestSource = newestMtime(join(root, "src"));
  if (newestSource > statSync(main).mtimeMs)
    return { fatal: false, message: "dist/ is older than src/: run `npm run build` to measure the current code." };
  return undefined;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Starts `node dist/main.js --role <role>` with exactly `env` as Sesame's configuration, and
 * resolves once `ready` says so. Fails with the process's last output when it exits first.
 */
export async function startSesameProcess(
  root: string,
  role: SesameRole,
  env: Record<string, string>,
  ready: () => Promise<boolean>,
): Promise<SesameProcess> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !INHERITED_BUT_NOT_PASSED.test(key)),
  );
  const logs: LogSummary = { warnings: 0, errors: 0, stderrLines: 0, samples: [] };
  const sample = (text: string) => {
    if (logs.samples.length < MAX_SAMPLES && !logs.samples.includes(text)) logs.samples.push(text);
  };
  // BENCH_SESAME_NODE_ARGS passes flags to Sesame's node alone, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  // to see where its CPU goes under the bench's load (node refuses --cpu-prof in NODE_OPTIONS).
  const nodeArgs = (process.env.BENCH_SESAME_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "");
  const args = [...nodeArgs, sesameMain(root), "--role", role];
  const child = await startChild(`sesame --role ${role}`, process.execPath, args, {
    cwd: root,
    env: { ...inherited, ...env },
    // Only the level is looked at in most lines: parsing every JSON log line would cost the
    // bench CPU that the machine shares with Sesame.
    onLine(line, stream) {
      if (stream === "stderr") {
        logs.stderrLines += 1;
        sample(line.slice(0, 300));
        return;
      }
      const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? 0);
      if (level < 40) return;
      if (level >= 50) logs.errors += 1;
      else logs.warnings += 1;
      sample(logMessage(line));
    },
  });
  try {
    await waitUntil(`sesame --role ${role} to be ready`, ready, {
      timeoutMs: 60_000,
      intervalMs: 200,
      abandon: child.exited.then((exit) => `it ${describeExit(exit)}:\n${child.tail()}`),
    });
  } catch (error) {
    await child.stop(5_000);
    throw error;
  }
  return {
    role,
    child,
    cpuMs: () => processCpuMs(child.pid),
    syscalls: () => processSyscalls(child.pid),
    logs: () => ({ ...logs, samples: [...logs.samples] }),
    stop: () => child.stop(30_000),
  };
}

function logMessage(line: string): string {
  try {
    const entry = JSON.parse(line) as { msg?: unknown; error?: unknown; err?: { message?: unknown } };
    const detail = entry.error ?? entry.err?.message;
    return `${String(entry.msg ?? "")}${detail === undefined ? "" : `: ${String(detail)}`}`.slice(0, 300);
  } catch {
    return line.slice(0, 300);
  }
}

/** Readiness of a process serving HTTP: /readyz answers 200 once PostgreSQL and Redis are reachable. */
export const httpReady = (baseUrl: string) => async (): Promise<boolean> => {
  try {
    const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
};

/**
 * Readiness of the job workers: BullMQ names each worker's Redis connection after its queue, so
 * the number of workers on Sesame's grant queue tells how many processes take jobs.
 */
export const workersReady = (redisUrl: string, prefix: string, expected: number) => async (): Promise<boolean> => {
  const { hostname, port } = new URL(redisUrl);
  const queue = new Queue("grants", { connection: { host: hostname, port: Number(port) }, prefix });
  queue.on("error", () => undefined);
  try {
    return (await queue.getWorkersCount()) >= expected;
  } catch {
    return false;
  } finally {
    await queue.close();
  }
};
