import type { DelayedFloor } from "./delayed-floor.js";
import type { Lateness } from "./lateness.js";
import { formatNumber, renderTable } from "./report.js";
import type { FaultRecord } from "./revocation-faults.js";
import type { PhaseOutcome } from "./revocation-phases.js";
import type { LogSummary } from "./sesame-process.js";

/** Everything the revocation bench measured, as printed (text) or emitted (--json). */
export interface RevocationReport {
  machine: { cores: number; node: string; postgres: string; redis: string; load: { start: number[]; end: number[] } };
  options: Record<string, unknown>;
  liveGrants: { count: number; loadedPerSecond: number; auditChainCaughtUp: boolean };
  floor?: DelayedFloor;
  rate?: PhaseOutcome & { load: number[] };
  /** Each burst, with Sesame's CPU while it revoked and its RSS at the peak and 10 s after. */
  bursts?: (PhaseOutcome & { load: number[]; sesameCpuMs: number; peakMiB: number; afterMiB: number })[];
  faults?: {
    records: FaultRecord[];
    outcome: PhaseOutcome;
    /** Grants that expired before the bench stopped waiting and were still not revoked. */
    missed: number;
    /** Sesame's revoke jobs in Redis at the end, against its active grants then. */
    revokeJobs: number;
    activeGrants: number;
    /** From the FLUSHALL until every active grant had its revoke job again (NaN: not within 3 minutes). */
    jobsBackAfterMs: number;
  };
  /** With the live grants: the lowest and highest RSS over 40 s (sweeps come and go). */
  memory: { idleMiB: number; withLiveGrantsMiB: { low: number; high: number } };
  sesameLogs: LogSummary;
  problems: string[];
}

const row = (label: string, l: Lateness | undefined, extra = ""): string[] => [
  label,
  formatNumber(l?.p50),
  formatNumber(l?.p99),
  formatNumber(l?.max),
  formatNumber(l?.count),
  extra,
];

const loadText = (load: number[] | undefined) => (load ? load.map((v) => v.toFixed(2)).join(" ") : "—");

export function renderRevocationReport(report: RevocationReport): string {
  const { machine, options, liveGrants, floor, rate, bursts, faults, memory } = report;
  const lines = [
    `Sesame revocation bench: ${formatNumber(liveGrants.count)} live grants (loaded at ${formatNumber(liveGrants.loadedPerSecond)}/s through Sesame's services), ` +
      `options ${JSON.stringify(options)}`,
    `machine: ${machine.cores} cores, Node ${machine.node}, PostgreSQL ${machine.postgres}, redis ${machine.redis}`,
    `load average (1/5/15 min): start ${loadText(machine.load.start)}, end ${loadText(machine.load.end)}`,
    liveGrants.auditChainCaughtUp
      ? ""
      : "note: the audit chainer had not caught up with the loaded grants when measuring began",
    "",
    "Revoke lateness in ms (Sesame: revokedAt − expiresAt; BullMQ: job started − due):",
    renderTable(
      ["", "p50", "p99", "max", "count", "notes"],
      [
        ...(rate
          ? [
              row(
                `Sesame, ${options.rate}/s expiring`,
                rate.lateness,
                `load ${loadText(rate.load)}; ${rate.notRevoked} not revoked`,
              ),
            ]
          : []),
        ...(floor ? [row(`BullMQ delayed jobs, ${options.rate}/s`, floor.rate)] : []),
        ...(bursts ?? []).map((burst, index) =>
          row(
            `Sesame, burst of ${options.burst}${(bursts ?? []).length > 1 ? ` (#${index + 1})` : ""}`,
            burst.lateness,
            `all revoked ${formatNumber(burst.doneAfterMs)} ms after the first expiry (expiries spread over ${formatNumber(burst.expirySpreadMs)} ms); ` +
              `${burst.notRevoked} not revoked, ${burst.notCreated} not loaded in time; ${burst.batches} batches; Sesame CPU ${formatNumber(burst.sesameCpuMs)} ms; load ${loadText(burst.load)}`,
          ),
        ),
        ...(floor
          ? [
              row(
                `BullMQ delayed jobs, burst of ${options.burst}`,
                floor.burst,
                `all started ${formatNumber(floor.burstDoneMs)} ms after the second began`,
              ),
            ]
          : []),
        ...(faults ? [row("Sesame under faults, every expiry", faults.outcome.lateness)] : []),
      ],
      ["left", "right", "right", "right", "right", "left"],
    ),
    "",
    `Sesame worker RSS: idle ${formatNumber(memory.idleMiB)} MiB, with ${formatNumber(liveGrants.count)} live grants ${formatNumber(memory.withLiveGrantsMiB.low)}–${formatNumber(memory.withLiveGrantsMiB.high)} MiB` +
      (bursts ?? [])
        .map(
          (burst, index) =>
            `; burst #${index + 1}: peak ${formatNumber(burst.peakMiB)} MiB, 10 s after ${formatNumber(burst.afterMiB)} MiB`,
        )
        .join(""),
  ];
  if (faults) {
    lines.push("", "Faults (ms after the first expiry of the stream):");
    for (const record of faults.records)
      lines.push(`  ${formatNumber(record.atMs)}: ${record.fault} (took ${formatNumber(record.tookMs)} ms)`);
    lines.push(
      `Missed revokes: ${faults.missed} (grants expired before the end and not revoked); ` +
        `${faults.outcome.notCreated} grants could not be created while things were down; ` +
        `revoke jobs in Redis at the end: ${formatNumber(faults.revokeJobs)} for ${formatNumber(faults.activeGrants)} active grants ` +
        `(all back ${formatNumber(faults.jobsBackAfterMs / 1000)} s after the flush)`,
    );
  }
  const logs = report.sesameLogs;
  const notes = [
    ...report.problems,
    ...(logs.warnings + logs.errors + logs.stderrLines > 0
      ? [
          `Sesame logged ${logs.warnings} warnings, ${logs.errors} errors, ${logs.stderrLines} stderr lines; e.g. ${logs.samples.slice(0, 4).join(" | ")}`,
        ]
      : []),
  ];
  lines.push("", notes.length > 0 ? "Problems seen:" : "No problems seen.", ...notes.map((note) => `  ${note}`));
  return lines.filter((line, index) => line !== "" || lines[index - 1] !== "").join("\n");
}
