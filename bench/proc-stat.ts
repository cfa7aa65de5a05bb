import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of the times in /proc/<pid>/stat (USER_HZ), asked once. */
let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
  return ticksPerSecond;
}

/**
 * A /proc/<pid>/stat line: the command name (field 2, which may contain spaces and parentheses,
 * hence read up to the last ')') and the fields after it.
 */
function statOf(stat: string): { name: string; fields: string[] } {
  const end = stat.lastIndexOf(")");
  return { name: stat.slice(stat.indexOf("(") + 1, end), fields: stat.slice(end + 2).split(" ") };
}

/**
 * CPU time (user + system, all threads) a process has used so far, in milliseconds. Read from
 * /proc rather than timed: on a busy, shared machine wall-clock time says little about the
 * work a process did, its CPU time does.
 */
export function processCpuMs(pid: number): number {
  const { fields } = statOf(readFileSync(`/proc/${pid}/stat`, "utf8"));
  // utime and stime are fields 14 and 15 of the whole line, so 12 and 13 after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / clockTicks();
}

/**
 * Read and write system calls (socket reads and writes included) a process has made so far, from
 * /proc/<pid>/io. On this kind of virtual machine a system call on a loopback socket costs as much
 * CPU as a good deal of JavaScript, so how many a lifecycle needs is a figure of its own.
 */
export function processSyscalls(pid: number): { reads: number; writes: number } {
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(io)?.[1] ?? Number.NaN);
  return { reads: field("syscr"), writes: field("syscw") };
}

/**
 * CPU time every process named `command` on this host has used so far, in milliseconds, with what
 * its exited children used (a PostgreSQL backend that ended is counted in the postmaster's). For
 * a server the bench shares with others (the local PostgreSQL), the difference over a run is the
 * server's whole work meanwhile, the bench's share and anything else it served.
 */
export function commandCpuMs(command: string): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // it exited meanwhile
    }
    const { name, fields } = statOf(stat);
    if (name !== command) continue;
    // utime, stime, cutime, cstime: fields 14–17 of the line, 12–15 after the name.
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return (ticks * 1000) / clockTicks();
}
