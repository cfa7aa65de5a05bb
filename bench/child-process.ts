import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** How a child ended: its exit code, or the signal that killed it. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process the bench started and is responsible for stopping. */
export interface ManagedChild {
  readonly name: string;
  readonly pid: number;
  /** Settles when the child has exited, for whatever reason. */
  readonly exited: Promise<ChildExit>;
  running(): boolean;
  /** The last lines it printed (stdout and stderr), for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL if it is still there after `graceMs`. */
  stop(graceMs?: number): Promise<ChildExit>;
}

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Sees every output line; used to count warnings in a server's log without storing it. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

const TAIL_LINES = 40;

// Children still running when the bench exits for any reason (an exception, process.exit in a
// signal handler) are killed here: an `exit` listener can only do synchronous work, so SIGKILL.
const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/**
 * Starts `command` and resolves once it has been spawned (rejects if it cannot be, e.g. the
 * binary is missing). Its `error` and `exit` events are always handled.
 */
export async function startChild(
  name: string,
  command: string,
  args: readonly string[],
  options: ChildOptions = {},
): Promise<ManagedChild> {
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const remember = (stream: "stdout" | "stderr") => (line: string) => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
    options.onLine?.(line, stream);
  };
  createInterface({ input: child.stdout! }).on("line", remember("stdout"));
  createInterface({ input: child.stderr! }).on("line", remember("stderr"));

  let exit: ChildExit | undefined;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      exit = { code, signal };
      resolve(exit);
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", () => resolve());
    // After a successful spawn an `error` means a failed kill: the exit handler already knows the state.
    child.on("error", (error) => reject(new Error(`${name}: could not start ${command}: ${error.message}`)));
  });
  live.add(child);

  return {
    name,
    pid: child.pid!,
    exited,
    running: () => exit === undefined,
    tail: () => lines.join("\n"),
    async stop(graceMs = 30_000) {
      if (exit) return exit;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** "exited with code 1" / "was killed by SIGKILL", for messages. */
export function describeExit(exit: ChildExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
