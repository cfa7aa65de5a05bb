import type { RequestPatch, RequestRow } from "../domain/access-request.js";
import type { AfterCommitEffect, Effect, Transition } from "../domain/effects.js";
import { isInTransaction } from "../domain/effects.js";
import { AppError } from "../domain/errors.js";
import type { GrantPatch, GrantRow } from "../domain/grant.js";
import { transitionGrant } from "../domain/grant-machine.js";
import { activateGrant } from "./activate-grant.js";
import { breakGlassAlarm } from "./break-glass.js";
import { afterCommit, type ServiceDeps } from "./deps.js";
import { pageKey } from "./escalate-request.js";
import { extendAtTarget } from "./extend-at-target.js";
import { observeChanges, type StatusesBefore } from "./observe-changes.js";
import type { UnitOfWork } from "./ports.js";
import { performRevoke } from "./revoke-grant.js";
import { enqueueActionRun } from "./run-action.js";
import { undoFailedGrant } from "./undo-failed-grant.js";

/**
 * The one place where the machines' effects are carried out. A use case reads: lock → transition
 * → `saveRequest` / `saveGrant` (the version-checked save plus the in-transaction effects, in the
 * same transaction) → commit → `runAfterCommit`.
 */

/** The rows a transaction saved, which after-commit effects (notifications) talk about. */
export interface Saved {
  request?: RequestRow;
  grant?: GrantRow;
  /** The statuses before this transaction's transitions, counted for /metrics after commit. */
  before?: StatusesBefore;
}

export interface Committed<T> {
  result: T;
  saved: Saved;
  after: AfterCommitEffect[];
}

const conflict = (what: string) =>
  new AppError("conflict", `This ${what} changed while it was being saved; nothing was recorded. Look at it again.`);

/** Saves a request transition and runs its in-transaction effects; returns what to do after commit. */
export async function saveRequest(
  deps: ServiceDeps,
  uow: UnitOfWork,
  request: RequestRow,
  transition: Transition<RequestPatch>,
): Promise<{ saved: Saved; after: AfterCommitEffect[] }> {
  const next = await uow.updateRequest(request, transition.patch);
  if (!next) throw conflict("request");
  const saved: Saved = { request: next, before: { request: request.status } };
  return { saved, after: await applyInTransaction(deps, uow, transition.effects, saved) };
}

/** Inserts a new request as the machine shaped it and runs its in-transaction effects. */
export async function saveNewRequest(
  deps: ServiceDeps,
  uow: UnitOfWork,
  request: RequestRow,
  effects: Effect[],
): Promise<{ saved: Saved; after: AfterCommitEffect[] }> {
  await uow.createRequest(request);
  const saved: Saved = { request: { ...request, decisions: [...request.decisions] }, before: { request: null } };
  return { saved, after: await applyInTransaction(deps, uow, effects, saved) };
}

/** Saves a grant transition and runs its in-transaction effects; returns what to do after commit. */
export async function saveGrant(
  deps: ServiceDeps,
  uow: UnitOfWork,
  grant: GrantRow,
  transition: Transition<GrantPatch>,
): Promise<{ saved: Saved; after: AfterCommitEffect[] }> {
  const next = await uow.updateGrant(grant, transition.patch);
  if (!next) throw conflict("grant");
  const saved: Saved = { grant: next, before: { grant: grant.status } };
  return { saved, after: await applyInTransaction(deps, uow, transition.effects, saved) };
}

/**
 * saveGrant for several grants the caller holds locked, in one statement (a batch of revokes);
 * each grant's in-transaction effects run as saveGrant runs them.
 */
export async function saveGrants(
  deps: ServiceDeps,
  uow: UnitOfWork,
  changes: readonly { grant: GrantRow; transition: Transition<GrantPatch> }[],
): Promise<{ saved: Saved; after: AfterCommitEffect[] }[]> {
  const next = await uow.updateGrants(
    changes.map(({ grant, transition }) => ({ current: grant, patch: transition.patch })),
  );
  const results: { saved: Saved; after: AfterCommitEffect[] }[] = [];
  for (const [index, { grant: current, transition }] of changes.entries()) {
    const grant = next[index];
    if (!grant) throw conflict("grant");
    const saved: Saved = { grant, before: { grant: current.status } };
    results.push({ saved, after: await applyInTransaction(deps, uow, transition.effects, saved) });
  }
  return results;
}

async function applyInTransaction(
  deps: ServiceDeps,
  uow: UnitOfWork,
  effects: Effect[],
  saved: Saved,
): Promise<AfterCommitEffect[]> {
  const after: AfterCommitEffect[] = [];
  for (const effect of effects) {
    if (!isInTransaction(effect)) {
      after.push(effect);
      continue;
    }
    switch (effect.kind) {
      case "record_decision":
        await uow.addDecision(effect.requestId, effect.decision);
        saved.request?.decisions.push({ ...effect.decision, createdAt: deps.now() });
        break;
      case "create_grant":
        saved.grant = await uow.createGrant(effect.grant);
        break;
      case "extend_grant": {
        const grant = await uow.lockGrant(effect.grantId);
        if (!grant) throw new AppError("conflict", "The grant this extension is for no longer exists.");
        const transition = transitionGrant(
          grant,
          {
            type: "extend",
            additionalSeconds: effect.additionalSeconds,
            maxTotalSeconds: effect.maxTotalSeconds,
            byRequestId: effect.requestId,
          },
          deps.now(),
        );
        const extended = await saveGrant(deps, uow, grant, transition);
        saved.grant = extended.saved.grant;
        after.push(...extended.after);
        break;
      }
      case "audit":
        await uow.appendAudit(effect.event);
        break;
      case "create_action_run":
        await uow.createActionRun({ id: effect.runId, requestId: effect.requestId });
        break;
    }
  }
  return after;
}

/** Runs after-commit effects in order; each failure is logged and left to the sweeper. */
export async function runAfterCommit(deps: ServiceDeps, effects: AfterCommitEffect[], saved: Saved): Promise<void> {
  observeChanges(deps.metrics, saved.before, saved);
  for (const effect of effects) await afterCommit(deps, effect.kind, () => runOne(deps, effect, saved));
}

async function runOne(deps: ServiceDeps, effect: AfterCommitEffect, saved: Saved): Promise<void> {
  switch (effect.kind) {
    case "enqueue_activation":
      // Redis down: grant now rather than wait for the sweeper.
      await deps.jobs.enqueueActivation(effect.grantId).catch(async (error: unknown) => {
        deps.logger.warn(
          { grantId: effect.grantId, error: String(error) },
          "could not queue the activation; granting now",
        );
        await activateGrant(deps, effect.grantId, { finalAttempt: false });
      });
      return;
    case "schedule_revoke":
      await deps.jobs.scheduleRevoke(effect.grantId, effect.at).catch(async (error: unknown) => {
        // A revoke due now must not wait for Redis; a later one is restored by the sweeper.
        if (effect.at.getTime() > deps.now().getTime()) throw error;
        deps.logger.warn({ grantId: effect.grantId, error: String(error) }, "could not queue the revoke; revoking now");
        await performRevoke(deps, effect.grantId, { finalAttempt: false });
      });
      return;
    case "schedule_request_expiry":
      return deps.jobs.scheduleRequestExpiry(effect.requestId, effect.at);
    case "schedule_escalation":
      return deps.jobs.scheduleEscalation(effect.requestId, effect.step, effect.at);
    case "notify_request":
      return deps.notifier.publish({ type: effect.notice, request: savedRequest(saved) });
    case "notify_escalated":
      return deps.notifier.publish({ type: "request.escalated", request: savedRequest(saved), entry: effect.entry });
    case "remind_approvers":
      return deps.notifier.publish({ type: "request.reminder", request: savedRequest(saved), step: effect.step });
    case "notify_grant":
      if (!saved.grant) throw new Error(`${effect.notice}: no grant was saved`);
      return deps.notifier.publish({ type: effect.notice, grant: saved.grant });
    case "resolve_pages":
      for (const source of effect.sources)
        await afterCommit(deps, "resolve page", () => deps.oncall.resolvePage(source, pageKey(effect.requestId)));
      return;
    case "raise_break_glass_alarm":
      return breakGlassAlarm(deps, savedRequest(saved));
    case "extend_at_target":
      return extendAtTarget(deps, effect.grantId, effect.expiresAt);
    case "undo_failed_grant":
      return undoFailedGrant(deps, effect.grantId);
    case "enqueue_action_run":
      return enqueueActionRun(deps, effect.requestId);
    case "alert":
      deps.logger.error({ grantId: effect.grantId, requestId: effect.requestId }, effect.message);
      return deps.notifier.publish({
        type: "alert",
        message: effect.message,
        ...(effect.grantId ? { grantId: effect.grantId } : {}),
        ...(effect.requestId ? { requestId: effect.requestId } : {}),
      });
  }
}

function savedRequest(saved: Saved): RequestRow {
  if (!saved.request) throw new Error("a request notification without a saved request");
  return saved.request;
}
