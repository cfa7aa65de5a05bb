import type { Command } from "commander";
import { formatDuration } from "../domain/duration.js";
import { GRANT_STATUSES, type GrantStatus } from "../domain/grant.js";
import { requestRevoke } from "../services/request-revoke.js";
import { performRevoke } from "../services/revoke-grant.js";
import { createStore } from "../storage/store.js";
import { print, withDatabase, withRuntime } from "./context.js";

export function registerGrantCommands(program: Command): void {
  const grants = program.command("grants").description("list and revoke grants");

  grants
    .command("list")
    .description("list grants, newest first")
    .option(
      "-s, --status <statuses>",
      `comma-separated: ${GRANT_STATUSES.join(", ")}`,
      "scheduled,active,revoking,revoke_failed,grant_failed",
    )
    .option("--subject <identity>", "only this person's grants")
    .option("--json", "print JSON")
    .action(async (options: { status: string; subject?: string; json?: boolean }) => {
      const status = options.status.split(",").map((s) => s.trim()) as GrantStatus[];
      const unknown = status.filter((s) => !GRANT_STATUSES.includes(s));
      if (unknown.length > 0)
        throw new Error(`--status: unknown ${unknown.join(", ")}; use ${GRANT_STATUSES.join(", ")}.`);
      await withDatabase(async (db) => {
        const rows = await createStore(db).listGrants({
          status,
          ...(options.subject ? { subjectId: options.subject } : {}),
          limit: 500,
        });
        if (options.json) return print(JSON.stringify(rows, null, 2));
        if (rows.length === 0) return print("No grants match.");
        const now = Date.now();
        for (const g of rows) {
          const left =
            g.status === "active" ? ` (${formatDuration(Math.max(0, (g.expiresAt.getTime() - now) / 1000))} left)` : "";
          print(
            `${g.id}  ${g.status.padEnd(13)} ${g.subjectId} → ${g.resourceId} as ${g.principal}, expires ${g.expiresAt.toISOString()}${left}${g.lastError ? `  last error: ${g.lastError}` : ""}`,
          );
        }
      });
    });

  grants
    .command("revoke <grantId>")
    .description("revoke a grant now, through its connector, and wait for the result")
    .option("-r, --reason <text>", "why (recorded in the audit log)")
    .option("--as <identity>", "the admin doing this (recorded in the audit log)", "cli")
    .action(async (grantId: string, options: { reason?: string; as: string }) => {
      await withRuntime(async ({ deps }) => {
        const grant = await requestRevoke(deps, {
          grantId,
          actorId: options.as,
          cause: "admin",
          ...(options.reason ? { reason: options.reason } : {}),
        });
        if (grant.status === "revoked") return print(`Grant ${grantId} is revoked.`);
        const result = await performRevoke(deps, grantId, { finalAttempt: false });
        print(
          result.kind === "revoked"
            ? `Grant ${grantId} is revoked${result.retainedByOtherGrants ? " (another live grant still holds the same access)" : ""}.`
            : `Grant ${grantId}: nothing to do (${result.kind === "skipped" ? result.status : "not due"}).`,
        );
      });
    });
}
