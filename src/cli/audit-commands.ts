import { createWriteStream } from "node:fs";
import type { Command } from "commander";
import { verifyAuditChain } from "../domain/audit-chain.js";
import { readAuditChain } from "../storage/audit-repository.js";
import { print, withDatabase } from "./context.js";

export function registerAuditCommands(program: Command): void {
  const audit = program.command("audit").description("verify and export the audit log");

  audit
    .command("verify")
    .description("check the hash chain: an edited, deleted or reordered row is reported")
    .option(
      "--known-hash <hash>",
      "a last hash printed by an earlier verify: also detects rows deleted from the end since then",
    )
    .action(async (options: { knownHash?: string }) => {
      await withDatabase(async (db) => {
        const verdict = await verifyAuditChain(
          readAuditChain(db),
          options.knownHash ? { knownHash: options.knownHash } : {},
        );
        if (verdict.ok) print(`Audit chain intact: ${verdict.checked} events, last hash ${verdict.lastHash}.`);
        else {
          print(
            `Audit chain BROKEN at event ${verdict.seq} (${verdict.checked} events before it are intact): ${verdict.problem}.`,
          );
          process.exitCode = 1;
        }
      });
    });

  audit
    .command("export")
    .description("write every audit event, oldest first")
    .option("--format <format>", "jsonl (one JSON object per line)", "jsonl")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action(async (options: { format: string; output?: string }) => {
      if (options.format !== "jsonl") throw new Error(`--format: only jsonl is supported (got "${options.format}").`);
      await withDatabase(async (db) => {
        const out = options.output ? createWriteStream(options.output) : process.stdout;
        try {
          for await (const row of readAuditChain(db)) {
            out.write(`${JSON.stringify({ ...row, seq: row.seq.toString(), at: row.at.toISOString() })}\n`);
          }
        } finally {
          if (out !== process.stdout)
            await new Promise((resolve) => (out as ReturnType<typeof createWriteStream>).end(resolve));
        }
      });
    });
}
