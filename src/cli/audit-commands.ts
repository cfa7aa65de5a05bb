import { createWriteStream } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import type { ChainVerdict } from "../domain/audit-chain-verify.js";
import { chainAuditEvents } from "../storage/audit-chainer.js";
import { readAuditChain, readUnchainedEvents, verifyStoredAuditChain } from "../storage/audit-repository.js";
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
    .description("write every audit event in chain order, then those not chained yet (position null)")
    .option("--format <format>", "jsonl (one JSON object per line)", "jsonl")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(async (options: { format: string; output?: string }) => {
      if (options.format !== "jsonl") throw new Error(`--format: only jsonl is supported (got "${options.format}").`);
      await withDatabase(async (db) => {
        await chainAuditEvents(db, { wait: true });
        const out = options.output ? createWriteStream(options.output) : process.stdout;
        const write = (line: Record<string, unknown>) =>
          out.write(
            `${JSON.stringify(line, (_key, value: unknown) => (typeof value === "bigint" ? `${value}` : value))}\n`,
          );
        try {
          let chainedUpTo = 0n;
          for await (const { position, eventSeq, prevHash, hash, event } of readAuditChain(db)) {
            // A link whose event is gone is still written: an offline check then names the deletion.
            write({ position, seq: eventSeq, ...event, prevHash, hash });
            chainedUpTo = position;
          }
          // Events linked while the chain was being written come here too, so none is left out.
          for await (const { seq, ...content } of readUnchainedEvents(db, chainedUpTo)) {
            write({ position: null, seq, ...content, prevHash: null, hash: null });
          }
        } finally {
          if (out !== process.stdout)
            await new Promise((resolve) => (out as ReturnType<typeof createWriteStream>).end(resolve));
        }
      });
    });
}
