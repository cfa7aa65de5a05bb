import type { Command } from "commander";
import { formatDuration } from "../domain/duration.js";
import { reviewBreakGlass } from "../services/break-glass.js";
import { createStore } from "../storage/store.js";
import { print, withDatabase, withRuntime } from "./context.js";

export function registerBreakGlassCommands(program: Command): void {
  const breakGlass = program
    .command("breakglass")
    .description("break-glass access waiting for its after-the-fact review");

  breakGlass
    .command("list")
    .description("break-glass requests nobody has reviewed yet, oldest first")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }) => {
      await withDatabase(async (db) => {
        const rows = (await createStore(db).listRequests({ unreviewedBreakGlass: true, limit: 500 })).reverse();
        if (options.json) return print(JSON.stringify(rows, null, 2));
        if (rows.length === 0) return print("No break-glass access waits for review.");
        for (const r of rows) {
          print(
            `${r.id}  ${r.createdAt.toISOString()}  ${r.requesterId} → ${r.resourceId} for ${formatDuration(r.durationSeconds)}: ${r.reason ?? "(no reason)"}`,
          );
        }
        print(`${rows.length} unreviewed. Review with: sesame breakglass review <id> --as <approver> [--note <text>]`);
      });
    });

  breakGlass
    .command("review <requestId>")
    .description("record the after-the-fact review of a break-glass request")
    .requiredOption("--as <identity>", "the approver or admin reviewing (recorded in the audit log)")
    .option("-n, --note <text>", "what the review found")
    .action(async (requestId: string, options: { as: string; note?: string }) => {
      await withRuntime(async ({ deps }) => {
        const reviewed = await reviewBreakGlass(deps, {
          requestId,
          actorId: options.as,
          ...(options.note ? { note: options.note } : {}),
        });
        print(`Break-glass request ${reviewed.id} reviewed by ${options.as}.`);
      });
    });
}
