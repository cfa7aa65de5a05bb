import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import type { ChainVerdict } from "../domain/audit-chain-verify.js";
import { type AuditExportLine, chainedLine, toJson, unchainedLine } from "../domain/audit-export-line.js";
import { tryParseDuration } from "../domain/duration.js";
import { chainAuditEvents } from "../storage/audit-chainer.js";
import { readAuditChain, readUnchainedEvents, verifyStoredAuditChain } from "../storage/audit-repository.js";
import { followAuditChain } from "./audit-follow.js";
import { print, withDatabase } from "./context.js";

/** A typo must not read as "rows deleted": only something shaped like a chain hash is looked for. */
function knownHashArgument(value: string): string {
  if (!/^[0-9a-f]{64}$/i.test(value.trim()))
    throw new InvalidArgumentError(
      "it is not a hash printed by `sesame audit verify`, which has 64 hexadecimal characters. Nothing was checked: copy the whole hash from that output.",
    );
  return value.trim().toLowerCase();
}

function verdictLine(verdict: ChainVerdict): string {
  if (!verdict.ok) {
    return `Audit chain BROKEN at event ${verdict.seq} (${verdict.checked} events before it are intact): ${verdict.problem}.`;
  }
  const intact = `Audit chain intact: ${verdict.checked} events, last hash ${verdict.lastHash}`;
  if (verdict.waiting === 0) return `${intact}.`;
  return (
    `${intact}; ${verdict.waiting} newer event(s) not chained yet: a transaction as old as theirs was still ` +
    "running in the PostgreSQL cluster; a running worker chains them about a second after it ends."
  );
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command("audit").description("verify and export the audit log");

  audit
    .command("verify")
    .description("check the hash chain: an edited, deleted, inserted or reordered event is reported")
    .option(
      "--known-hash <hash>",
      "a last hash printed by an earlier verify: also detects events deleted from the end since then",
      knownHashArgument,
    )
    .action(async (options: { knownHash?: string }) => {
      await withDatabase(async (db) => {
        // Link whatever has committed first, so the verdict covers it.
        await chainAuditEvents(db, { wait: true });
        const verdict = await verifyStoredAuditChain(db, options.knownHash ? { knownHash: options.knownHash } : {});
        print(verdictLine(verdict));
        if (!verdict.ok) process.exitCode = 1;
      });
    });

  audit
    .command("export")
    .description(
      "write every audit event in chain order, then those not chained yet (position null); with --follow, keep writing events as they are chained",
    )
    .option("--format <format>", "jsonl (one JSON object per line)", "jsonl")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .option("--follow", "after the chain so far, stream each event once it is chained, until Ctrl-C")
    .option("--interval <duration>", "with --follow: how often to look for new events", "1s")
    .action(async (options: { format: string; output?: string; follow?: boolean; interval: string }) => {
      if (options.format !== "jsonl") throw new Error(`--format: only jsonl is supported (got "${options.format}").`);
      const intervalSeconds = tryParseDuration(options.interval);
      if (intervalSeconds === undefined || intervalSeconds < 1)
        throw new Error(`--interval: must be a duration of at least 1s, like 1s or 10s (got "${options.interval}").`);
      await withDatabase(async (db) => {
        await chainAuditEvents(db, { wait: true });
        const out = options.output ? createWriteStream(options.output) : process.stdout;
        const stop = new AbortController();
        const abort = () => stop.abort();
        // A closed pipe (`| head`) ends the export quietly instead of crashing it.
        out.on("error", abort);
        const write = async (line: AuditExportLine) => {
          if (!out.write(`${toJson(line)}\n`)) await once(out, "drain", { signal: stop.signal }).catch(() => {});
        };
        try {
          let chainedUpTo = 0n;
          for await (const entry of readAuditChain(db)) {
            await write(chainedLine(entry));
            chainedUpTo = entry.position;
          }
          if (options.follow) {
            process.once("SIGINT", abort);
            process.once("SIGTERM", abort);
            await followAuditChain(db, write, {
              after: chainedUpTo,
              intervalMs: intervalSeconds * 1000,
              signal: stop.signal,
            });
          } else {
            // Events linked while the chain was being written come here too, so none is left out.
            for await (const event of readUnchainedEvents(db, chainedUpTo)) await write(unchainedLine(event));
          }
        } finally {
          out.off("error", abort);
          process.off("SIGINT", abort);
          process.off("SIGTERM", abort);
          if (out !== process.stdout)
            await new Promise((resolve) => (out as ReturnType<typeof createWriteStream>).end(resolve));
        }
      });
    });
}
