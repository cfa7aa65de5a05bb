import { createHash } from "node:crypto";
import type { RequestRow } from "../domain/access-request.js";
import {
  type ActionOutcome,
  type ActionResult,
  type ActionRunEvent,
  type ActionRunRow,
  resultWithoutRows,
  transitionActionRun,
} from "../domain/actions/action-run.js";
import { AppError, isAppError } from "../domain/errors.js";
import { afterCommit, type ServiceDeps } from "./deps.js";

/**
 * Runs an approved action exactly once, or says so: claim (`running`, committed) → the executor
 * → record the outcome (committed). A second job or click finds the claim and runs nothing; a
 * process that dies between the two leaves `running`, which the sweeper turns into `unknown`
 * (never retried). No transaction is open while the statement runs on the target.
 */

/** After commit of an approval: run it now (a queue may take this over later). */
export async function enqueueActionRun(deps: ServiceDeps, requestId: string): Promise<void> {
  await runAction(deps, requestId);
}

/** Seals a result for storage and hashes it for the audit log (the audit never holds the rows). */
export function sealResult(deps: ServiceDeps, result: ActionResult): { sealedResult: string; resultSha256: string } {
  const json = JSON.stringify(result);
  return {
    sealedResult: deps.secrets.seal({ result: json }),
    resultSha256: createHash("sha256").update(json, "utf8").digest("hex"),
  };
}

export function openResult(deps: ServiceDeps, run: ActionRunRow): ActionResult | null {
  if (!run.sealedResult) return null;
  return JSON.parse(deps.secrets.open(run.sealedResult).result ?? "null") as ActionResult | null;
}

function approversOf(request: RequestRow): string[] {
  return [...new Set(request.decisions.filter((d) => d.kind === "approve").map((d) => d.approverId))].sort();
}

async function change(deps: ServiceDeps, requestId: string, event: (request: RequestRow) => ActionRunEvent) {
  const changed = await deps.store.transaction(async (uow) => {
    const request = await uow.getRequest(requestId);
    const run = await uow.lockActionRun(requestId);
    const spec = request?.snapshot.action;
    if (!request || !run || !spec) throw new AppError("not_found", `There is no approved action ${requestId}.`);
    const transition = transitionActionRun(run, event(request), {
      requestId,
      requesterId: request.requesterId,
      spec,
      approverIds: approversOf(request),
    });
    const saved = await uow.updateActionRun(run, transition.patch);
    if (!saved) throw new AppError("conflict", "This action changed while it was being saved; nothing was recorded.");
    for (const audit of transition.audit) await uow.appendAudit(audit);
    return { request, run: saved, spec, notify: transition.notify };
  });
  if (changed.notify)
    await afterCommit(deps, "notify action outcome", () =>
      deps.notifier.publish({ type: "action.finished", request: changed.request }),
    );
  return changed;
}

/** Claims and runs the action of an approved request; returns its run as it ended (or as it already was). */
export async function runAction(deps: ServiceDeps, requestId: string): Promise<ActionRunRow | null> {
  let claimed: Awaited<ReturnType<typeof change>>;
  try {
    claimed = await change(deps, requestId, () => ({ type: "claim", now: deps.now() }));
  } catch (error) {
    // Already claimed by an earlier job or click: it runs once, so nothing happens here.
    if (isAppError(error) && error.code === "already_decided") return deps.store.getActionRun(requestId);
    throw error;
  }
  const { outcome, result } = await execute(deps, requestId, claimed);
  const sealed = sealResult(deps, result);
  const finished = await change(deps, requestId, () => ({ type: "finish", now: deps.now(), outcome, ...sealed }));
  deps.logger.info({ requestId, outcome, class: claimed.spec.class }, "action finished");
  deps.metrics?.actionFinished?.(claimed.spec.class, outcome);
  return finished.run;
}

/**
 * The executor's outcome. Executors report every failure as an outcome; one that throws anyway
 * may have sent the action first, so that ends `unknown` now rather than when the sweeper looks.
 */
async function execute(
  deps: ServiceDeps,
  requestId: string,
  claimed: Awaited<ReturnType<typeof change>>,
): Promise<ActionOutcome> {
  const executor = deps.actions;
  if (!executor) return { outcome: "failed", result: resultWithoutRows({ error: "no action executor is configured" }) };
  try {
    return await executor.run({
      connectorName: claimed.request.snapshot.connectorName,
      target: claimed.request.snapshot.target,
      spec: claimed.spec,
      startedAt: claimed.run.claimedAt ?? deps.now(),
      run: {
        requestId,
        runId: claimed.run.id,
        requesterId: claimed.request.requesterId,
        approverIds: approversOf(claimed.request),
      },
    });
  } catch (error) {
    // Its name only: an unexpected error's message may quote a target's URL or credentials.
    const kind = error instanceof Error ? error.name : typeof error;
    deps.logger.error({ requestId, error: kind }, "an action executor failed unexpectedly; the run ends unknown");
    return {
      outcome: "unknown",
      result: resultWithoutRows({
        error: "Sesame hit an internal problem while running it; it may or may not have run",
      }),
    };
  }
}

/** The sweeper: runs claimed long ago without a result died with their process; say so, never retry. */
export async function sweepLostActions(
  deps: ServiceDeps,
  options: { graceMs: number; limit?: number },
): Promise<number> {
  const now = deps.now();
  const stale = await deps.store.listStaleRunningActions(
    new Date(now.getTime() - options.graceMs),
    options.limit ?? 100,
  );
  let marked = 0;
  for (const run of stale) {
    try {
      const lost = await change(deps, run.requestId, (request) => ({
        type: "lost",
        now,
        claimTimeoutMs: (request.snapshot.action?.limits.statementTimeoutMs ?? 0) + options.graceMs,
      }));
      deps.metrics?.actionFinished?.(lost.spec.class, "unknown");
      marked += 1;
    } catch (error) {
      if (!isAppError(error) || error.code !== "conflict") throw error;
    }
  }
  return marked;
}
