import type { GrantExpiry } from "./ports.js";
import type { SweepContext } from "./sweep-context.js";

/** Overdue grants per page: one revoke batch (SWEEP_CONCURRENCY connector calls at once) before the next is read. */
const OVERDUE_PAGE = 100;
/** Live grants per page whose revoke jobs are checked in one script call (and restored in one bulk add). */
const RESTORE_PAGE = 1_000;

/**
 * Walks the active grants in expiry order, `pageSize` at a time, from the earliest expiry (or
 * strictly after `from`) up to `until`. Each page starts where the last one ended, so grants that
 * change status meanwhile neither stop the walk nor make it visit a grant twice.
 */
async function forEachActivePage(
  ctx: SweepContext,
  range: { until?: Date; from?: Date; pageSize: number },
  work: (page: GrantExpiry[]) => Promise<"continue" | "stop">,
): Promise<void> {
  let after = range.from ? { expiresAt: range.from, id: "" } : undefined;
  for (;;) {
    const page = await ctx.deps.store.pageGrantsByExpiry({
      status: "active",
      ...(after ? { after } : {}),
      ...(range.until ? { until: range.until } : {}),
      limit: range.pageSize,
    });
    if (page.length === 0 || (await work(page)) === "stop") return;
    await ctx.checkpoint();
    if (page.length < range.pageSize) return;
    after = page.at(-1)!;
  }
}

/**
 * Revokes every active grant whose expiry has passed, right here (no queue needed): its job was
 * lost, is late, or Redis is down. A revoke job working on the same grant meanwhile is not an
 * error; one of the two does it.
 */
export function revokeOverdueGrants(ctx: SweepContext): Promise<void> {
  return forEachActivePage(ctx, { until: ctx.now, pageSize: OVERDUE_PAGE }, async (page) => {
    ctx.report.revokedOverdue += await ctx.revoke(page, "revoke overdue");
    return "continue";
  });
}

/**
 * Makes sure every live grant has its revoke job, a page at a time: one look-up (a script call)
 * per page and one bulk add for what is missing (a flushed Redis), never one round trip per grant.
 * Stops at the first Redis failure: the other pages would only fail alike.
 */
export function restoreRevokeJobs(ctx: SweepContext): Promise<void> {
  const { deps, report } = ctx;
  return forEachActivePage(ctx, { from: ctx.now, pageSize: RESTORE_PAGE }, async (page) => {
    try {
      report.revokeJobsRestored += await deps.jobs.ensureRevokeJobs(
        page.map((grant) => ({ grantId: grant.id, at: grant.expiresAt })),
      );
      return "continue";
    } catch (error) {
      report.errors += 1;
      deps.logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        "could not check revoke jobs (Redis unreachable?); the next sweep tries again",
      );
      return "stop";
    }
  });
}
