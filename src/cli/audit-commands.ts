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

function chainPositionArgument(value: string): bigint {
  if (!/^\d{1,18}$/.test(value.trim()))
    throw new InvalidArgumentError(
      "it must be a chain position: the `position` of the last line already written, like 1234.",
    );
  return BigInt(value.trim());
}

/** A database error's code or name, never its message: a connection error's message can carry the URL. */
function outageReason(error: unknown): string {
  const code =
    (error as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code ??
    (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.name : "unknown error";
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
    .option(
      "--after <position>",
      "with --follow: resume after this chain position (the last line's position), appending to -o instead of rewriting it",
      chainPositionArgument,
    )
    .action(
      async (options: { format: string; output?: string; follow?: boolean; interval: string; after?: bigint }) => {
        if (options.format !== "jsonl") throw new Error(`--format: only jsonl is supported (got "${options.format}").`);
        const intervalSeconds = tryParseDuration(options.interval);
        if (intervalSeconds === undefined || intervalSeconds < 1)
          throw new Error(`--interval: must be a duration of at least 1s, like 1s or 10s (got "${options.interval}").`);
        if (options.after !== undefined && !options.follow)
          throw new Error("--after: only with --follow (it resumes a follower that stopped).");
        await withDatabase(async (db) => {
          await chainAuditEvents(db, { wait: true });
          const out = options.output
            ? createWriteStream(options.output, { flags: options.after === undefined ? "w" : "a" })
            : process.stdout;
          const stop = new AbortController();
          const abort = () => stop.abort();
          let outputError: Error | undefined;
          const onOutputError = (error: NodeJS.ErrnoException) => {
            // A closed pipe (`| head`) ends the export quietly; a full disk or a bad path is an error.
            if (error.code !== "EPIPE") outputError = error;
            abort();
          };
          out.on("error", onOutputError);
          const write = async (line: AuditExportLine) => {
            if (!out.write(`${toJson(line)}\n`)) await once(out, "drain", { signal: stop.signal }).catch(() => {});
          };
          try {
            if (options.follow) {
              process.once("SIGINT", abort);
              process.once("SIGTERM", abort);
              let after = options.after ?? 0n;
              if (options.after === undefined) {
                for await (const entry of readAuditChain(db)) {
                  if (stop.signal.aborted) break;
                  await write(chainedLine(entry));
                  after = entry.position;
                }
              }
              await followAuditChain(db, write, {
                after,
                intervalMs: intervalSeconds * 1000,
                signal: stop.signal,
                onOutage: (state, error) =>
                  process.stderr.write(
                    state === "down"
                      ? `sesame audit export: cannot read the audit log (${outageReason(error)}); retrying, nothing will be skipped.\n`
                      : "sesame audit export: the audit log can be read again; following.\n",
                  ),
              });
            } else {
              let chainedUpTo = 0n;
              for await (const entry of readAuditChain(db)) {
                if (stop.signal.aborted) break;
                await write(chainedLine(entry));
                chainedUpTo = entry.position;
              }
              // Events linked while the chain was being written come here too, so none is left out.
              for await (const event of readUnchainedEvents(db, chainedUpTo)) {
                if (stop.signal.aborted) break;
                await write(unchainedLine(event));
              }
            }
          } finally {
            process.off("SIGINT", abort);
            process.off("SIGTERM", abort);
            if (out !== process.stdout && !outputError)
              await new Promise((resolve) => (out as ReturnType<typeof createWriteStream>).end(resolve));
            out.off("error", onOutputError);
          }
          if (outputError) throw new Error(`cannot write the export: ${outputError.message}`);
        });
      },
    );
}
