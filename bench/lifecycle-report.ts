import type { BullmqFloor, CommitFloor, HttpFloor } from "./floors.js";
import type { ApiTally } from "./http-api.js";
import { type DriverResult, type LifecycleFailure, STEPS, type Step } from "./lifecycle-driver.js";
import type { LockSamples } from "./pg-observer.js";
import { formatNumber, formatRatio, renderTable } from "./report.js";
import type { LogSummary } from "./sesame-process.js";
import type { SplitFloor } from "./split-floor.js";
import { median, type Spread, spread } from "./stats.js";

/** The figures of one measured run (or their medians over runs), as a user of Sesame sees them. */
export interface Figures {
  lifecyclesPerSecond: number;
  /** Every API call the bench made, polls included. */
  apiCallsPerSecond: number;
  steps: Record<Step, Spread>;
  pollsPerLifecycle: number;
  sesameCpuMsPerLifecycle: number;
  /** Of it, the process serving the API (`--role all`, or `--role web` with --split)... */
  apiProcessCpuMsPerLifecycle: number;
  /** ...and the `--role worker` beside it (NaN with one process: there is none, so no ratio either). */
  workerProcessCpuMsPerLifecycle: number;
  sesameCpuMsPerApiCall: number;
  /** Sesame's read and write system calls (sockets, mostly) per lifecycle, all its processes. */
  sesameReadsPerLifecycle: number;
  sesameWritesPerLifecycle: number;
  /** The bench's own CPU: it shares the machine with Sesame. */
  benchCpuMsPerLifecycle: number;
  /** The local PostgreSQL server's CPU (all its processes, whatever else it served meanwhile). */
  postgresCpuMsPerLifecycle: number;
  /** The bench's private redis-server. */
  redisCpuMsPerLifecycle: number;
  /** Transactions committed in the bench database per lifecycle, the bench's polling included. */
  xactsPerLifecycle: number;
  /** Of those, the ones the bench's polls caused (polls × transactions per poll). */
  pollingXactsPerLifecycle: number;
  /** The rest: what submit, approve, activation, relinquish and revocation cost. */
  writePathXactsPerLifecycle: number;
  xactsPerSecond: number;
  advisoryWaitingAvg: number;
  advisoryWaitingMax: number;
  advisoryLocksWhenWaiting: number;
  anyLockWaitingAvg: number;
  anyLockWaitingMax: number;
  activeBackendsAvg: number;
  completed: number;
  failed: number;
}

export interface Floors {
  bullmq: BullmqFloor;
  commits: CommitFloor;
  healthz: HttpFloor;
  /** Sesame's CPU per /healthz request: the cost of an HTTP request that does nothing. */
  healthzCpuMsPerRequest: number;
  /** What splitting a plain node-postgres workload between two processes costs on this machine. */
  split: SplitFloor;
}

export interface RunRecord {
  run: number;
  processes: number;
  loadAverage: { before: number[]; after: number[] };
  figures: Figures;
  floors: Floors;
  api: ApiTally;
  /** Failed lifecycles, up to a handful, with where and why they failed. */
  failureSamples: LifecycleFailure[];
  /** Grants and requests in the bench database by status after the run (all runs so far). */
  grantStatuses: Record<string, number>;
  requestStatuses: Record<string, number>;
  logs: Record<string, LogSummary>;
  lockSamples: LockSamples;
  problems: string[];
}

export interface Measurements {
  driver: DriverResult;
  api: ApiTally;
  sesameCpuMs: number;
  /** The part of sesameCpuMs used by the process serving the API. */
  apiProcessCpuMs: number;
  processes: number;
  sesameSyscalls: { reads: number; writes: number };
  benchCpuMs: number;
  postgresCpuMs: number;
  redisCpuMs: number;
  xacts: number;
  xactsPerPoll: number;
  locks: LockSamples;
}

export function computeFigures(m: Measurements): Figures {
  const done = Math.max(1, m.driver.completed);
  const seconds = m.driver.wallMs / 1000;
  const pollingXacts = m.driver.polls * m.xactsPerPoll;
  return {
    lifecyclesPerSecond: m.driver.completed / seconds,
    apiCallsPerSecond: m.api.calls / seconds,
    steps: Object.fromEntries(STEPS.map((step) => [step, spread(m.driver.steps[step])])) as Record<Step, Spread>,
    pollsPerLifecycle: m.driver.polls / done,
    sesameCpuMsPerLifecycle: m.sesameCpuMs / done,
    apiProcessCpuMsPerLifecycle: m.apiProcessCpuMs / done,
    workerProcessCpuMsPerLifecycle: m.processes > 1 ? (m.sesameCpuMs - m.apiProcessCpuMs) / done : Number.NaN,
    sesameCpuMsPerApiCall: m.sesameCpuMs / Math.max(1, m.api.calls),
    sesameReadsPerLifecycle: m.sesameSyscalls.reads / done,
    sesameWritesPerLifecycle: m.sesameSyscalls.writes / done,
    benchCpuMsPerLifecycle: m.benchCpuMs / done,
    postgresCpuMsPerLifecycle: m.postgresCpuMs / done,
    redisCpuMsPerLifecycle: m.redisCpuMs / done,
    xactsPerLifecycle: m.xacts / done,
    pollingXactsPerLifecycle: pollingXacts / done,
    writePathXactsPerLifecycle: (m.xacts - pollingXacts) / done,
    xactsPerSecond: m.xacts / seconds,
    advisoryWaitingAvg: m.locks.advisoryWaitingAvg,
    advisoryWaitingMax: m.locks.advisoryWaitingMax,
    advisoryLocksWhenWaiting: m.locks.advisoryLocksWhenWaiting,
    anyLockWaitingAvg: m.locks.anyWaitingAvg,
    anyLockWaitingMax: m.locks.anyWaitingMax,
    activeBackendsAvg: m.locks.activeAvg,
    completed: m.driver.completed,
    failed: m.driver.failures.length,
  };
}

type Shape = number | { [key: string]: Shape };

/** Applies `combine` leaf by leaf to objects of the same shape (medians of runs, ratios of medians). */
function zipShapes(shapes: readonly Shape[], combine: (values: number[]) => number): Shape {
  const first = shapes[0]!;
  if (typeof first === "number") return combine(shapes as number[]);
  return Object.fromEntries(
    Object.keys(first).map((key) => [
      key,
      zipShapes(
        shapes.map((shape) => (shape as { [key: string]: Shape })[key]!),
        combine,
      ),
    ]),
  );
}

export const medianOf = <T extends object>(items: readonly T[]): T =>
  zipShapes(items as unknown as Shape[], median) as unknown as T;

const ratioOf = <T extends object>(numerator: T, denominator: T): T =>
  zipShapes([numerator, denominator] as unknown as Shape[], ([a, b]) => a! / b!) as unknown as T;

export interface Summary {
  oneProcess?: Figures;
  twoProcesses?: Figures;
  /** Two processes divided by one, figure by figure. */
  twoOverOne?: Figures;
  floors: Floors;
}

export function summarize(runs: readonly RunRecord[]): Summary {
  const figuresOf = (processes: number) => runs.filter((r) => r.processes === processes).map((r) => r.figures);
  const one = figuresOf(1);
  const two = figuresOf(2);
  const oneProcess = one.length > 0 ? medianOf(one) : undefined;
  const twoProcesses = two.length > 0 ? medianOf(two) : undefined;
  return {
    ...(oneProcess ? { oneProcess } : {}),
    ...(twoProcesses ? { twoProcesses } : {}),
    ...(oneProcess && twoProcesses ? { twoOverOne: ratioOf(twoProcesses, oneProcess) } : {}),
    floors: medianOf(runs.map((r) => r.floors)),
  };
}

interface Row {
  label: string;
  pick: (f: Figures) => number;
  floor?: { label: string; value: number };
}

const STEP_LABELS: Record<Step, string> = {
  submit: "submit",
  approve: "approve",
  approveToActive: "approve → active",
  relinquish: "relinquish",
  relinquishToRevoked: "relinquish → revoked",
};

/** The main table: each figure for one and two processes, their ratio, and its floor with the ratio to it. */
export function renderSummary(summary: Summary): string {
  const { floors } = summary;
  const stepFloor = (step: Step, p: "p50" | "p99") =>
    step === "approveToActive" || step === "relinquishToRevoked"
      ? { label: `BullMQ add → run ${p} ms`, value: floors.bullmq.pickup[p] }
      : { label: `/healthz ${p} ms`, value: floors.healthz.latency[p] };
  const rows: Row[] = [
    {
      label: "lifecycles/s",
      pick: (f) => f.lifecyclesPerSecond,
      floor: { label: "BullMQ no-op jobs/s", value: floors.bullmq.jobsPerSecond },
    },
    {
      label: "API calls/s (polls included)",
      pick: (f) => f.apiCallsPerSecond,
      floor: { label: "/healthz requests/s", value: floors.healthz.requestsPerSecond },
    },
    ...STEPS.flatMap((step) =>
      (["p50", "p99"] as const).map((p) => ({
        label: `${STEP_LABELS[step]} ${p} ms`,
        pick: (f: Figures) => f.steps[step][p],
        floor: stepFloor(step, p),
      })),
    ),
    { label: "grant reads per lifecycle (polls or waits)", pick: (f) => f.pollsPerLifecycle },
    { label: "Sesame CPU ms per lifecycle", pick: (f) => f.sesameCpuMsPerLifecycle },
    { label: "  of which the API's process (all or web)", pick: (f) => f.apiProcessCpuMsPerLifecycle },
    { label: "  of which the --role worker", pick: (f) => f.workerProcessCpuMsPerLifecycle },
    {
      label: "Sesame CPU ms per API call",
      pick: (f) => f.sesameCpuMsPerApiCall,
      floor: { label: "CPU ms per /healthz", value: floors.healthzCpuMsPerRequest },
    },
    { label: "Sesame write syscalls per lifecycle", pick: (f) => f.sesameWritesPerLifecycle },
    { label: "Sesame read syscalls per lifecycle", pick: (f) => f.sesameReadsPerLifecycle },
    { label: "bench's own CPU ms per lifecycle", pick: (f) => f.benchCpuMsPerLifecycle },
    { label: "PostgreSQL CPU ms per lifecycle", pick: (f) => f.postgresCpuMsPerLifecycle },
    { label: "Redis CPU ms per lifecycle", pick: (f) => f.redisCpuMsPerLifecycle },
    { label: "DB transactions per lifecycle", pick: (f) => f.xactsPerLifecycle },
    { label: "  of which the bench's polls", pick: (f) => f.pollingXactsPerLifecycle },
    { label: "  the write path itself", pick: (f) => f.writePathXactsPerLifecycle },
    {
      label: "DB transactions/s",
      pick: (f) => f.xactsPerSecond,
      floor: { label: "serial PG commits/s", value: floors.commits.commitsPerSecond },
    },
    { label: "waiting on advisory lock (avg)", pick: (f) => f.advisoryWaitingAvg },
    { label: "waiting on advisory lock (max)", pick: (f) => f.advisoryWaitingMax },
    { label: "  distinct locks waited for", pick: (f) => f.advisoryLocksWhenWaiting },
    { label: "waiting on any lock (avg)", pick: (f) => f.anyLockWaitingAvg },
    { label: "waiting on any lock (max)", pick: (f) => f.anyLockWaitingMax },
    { label: "active DB sessions (avg)", pick: (f) => f.activeBackendsAvg },
    { label: "lifecycles failed", pick: (f) => f.failed },
  ];
  const cell = (figures: Figures | undefined, row: Row) => formatNumber(figures ? row.pick(figures) : undefined);
  const table = rows.map((row) => [
    row.label,
    cell(summary.oneProcess, row),
    cell(summary.twoProcesses, row),
    cell(summary.twoOverOne, row),
    row.floor?.label ?? "",
    formatNumber(row.floor?.value),
    formatRatio(summary.oneProcess ? row.pick(summary.oneProcess) : undefined, row.floor?.value),
  ]);
  return renderTable(["figure", "1 process", "2 processes", "2p/1p", "floor (same run)", "floor", "1p/floor"], table, [
    "left",
    "right",
    "right",
    "right",
    "left",
    "right",
    "right",
  ]);
}

/** One line per run, in the order they ran: how much the runs agree, and how the load moved. */
export function renderRuns(runs: readonly RunRecord[]): string {
  const rows = runs.map((r) => [
    String(r.run),
    String(r.processes),
    formatNumber(r.figures.lifecyclesPerSecond),
    formatNumber(r.figures.steps.submit.p50),
    formatNumber(r.figures.steps.approveToActive.p50),
    formatNumber(r.figures.sesameCpuMsPerLifecycle),
    formatNumber(r.figures.xactsPerLifecycle),
    formatNumber(r.figures.advisoryWaitingAvg),
    formatNumber(r.floors.bullmq.jobsPerSecond),
    formatNumber(r.floors.commits.commitsPerSecond),
    String(r.figures.failed),
    `${r.loadAverage.before[0]!.toFixed(2)} → ${r.loadAverage.after[0]!.toFixed(2)}`,
  ]);
  return renderTable(
    [
      "run",
      "processes",
      "lifecycles/s",
      "submit p50",
      "approve→active p50",
      "CPU ms/lc",
      "xacts/lc",
      "lock waiters",
      "BullMQ jobs/s",
      "PG commits/s",
      "failed",
      "load (1 min)",
    ],
    rows,
    ["right", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right", "right"],
  );
}
