import type { AuditInput } from "../audit-event.js";
import { AppError } from "../errors.js";
import type { ActionLimits } from "./action-evaluation.js";
import type { ActionClass, ActionKind } from "./action-kind.js";

/**
 * One approved action and its single execution. The action itself (text, hash, class, limits)
 * is frozen into the request's snapshot at submission; the run is created when the request is
 * approved and moves `queued → running → succeeded | failed`, or `running → unknown` when the
 * process died between its claim and its result. `running` is committed before the connector is
 * called, so a repeated job or click finds it taken and never runs the action again; an
 * `unknown` run is reported, never retried. Pure: the services lock, transition, save with the
 * version check, then apply the effects.
 */

export interface ActionSpec {
  /** Implied by the resource's connector: what classified the text and what runs it. */
  kind: ActionKind;
  text: string;
  /** Hex sha256 of the UTF-8 text: the approval is bound to it. */
  sha256: string;
  class: ActionClass;
  classWhy: string;
  limits: ActionLimits;
}

export type ActionRunStatus = "queued" | "running" | "succeeded" | "failed" | "unknown";
/** What the API shows: the run's status, or what the request's own state says when there is no run. */
export type ActionStatus = "pending" | ActionRunStatus | "not_run";

export interface ActionResult {
  rowCount: number | null;
  columns: string[];
  rows: unknown[][];
  truncated: boolean;
  output?: string;
  error?: string;
}

/** How one run of an action ended, and what it returned. */
export interface ActionOutcome {
  outcome: "succeeded" | "failed" | "unknown";
  result: ActionResult;
}

/** A result without rows: a command's output, or why nothing (or not all of it) ran. */
export const resultWithoutRows = (fields: { output?: string; error?: string }): ActionResult => ({
  rowCount: null,
  columns: [],
  rows: [],
  truncated: false,
  ...fields,
});

export interface ActionRunRow {
  id: string;
  requestId: string;
  status: ActionRunStatus;
  version: number;
  claimedAt: Date | null;
  finishedAt: Date | null;
  /** The result sealed with the secret box (rows may hold anything the target returned). */
  sealedResult: string | null;
  resultSha256: string | null;
  createdAt: Date;
}

export type ActionRunPatch = Partial<
  Pick<ActionRunRow, "status" | "claimedAt" | "finishedAt" | "sealedResult" | "resultSha256">
>;

export type ActionRunEvent =
  | { type: "claim"; now: Date }
  | {
      type: "finish";
      now: Date;
      outcome: "succeeded" | "failed" | "unknown";
      sealedResult: string;
      resultSha256: string;
    }
  /** The sweeper: the claim is older than the statement could possibly run, and no result came. */
  | { type: "lost"; now: Date; claimTimeoutMs: number };

export interface ActionRunContext {
  requestId: string;
  requesterId: string;
  spec: ActionSpec;
  approverIds: string[];
}

export interface ActionRunTransition {
  patch: ActionRunPatch;
  audit: AuditInput[];
  /** Tell the requester and the approvers how it ended. */
  notify: boolean;
}

export function actionStatusOf(requestStatus: string, run: ActionRunRow | null): ActionStatus {
  if (run) return run.status;
  return requestStatus === "pending" || requestStatus === "approved" ? "pending" : "not_run";
}

export function transitionActionRun(
  run: ActionRunRow,
  event: ActionRunEvent,
  ctx: ActionRunContext,
): ActionRunTransition {
  const base = { textSha256: ctx.spec.sha256, class: ctx.spec.class };
  switch (event.type) {
    case "claim":
      if (run.status !== "queued")
        throw new AppError("already_decided", `This action already ran or is running (${run.status}); it runs once.`, {
          details: { status: run.status },
        });
      return {
        patch: { status: "running", claimedAt: event.now },
        audit: [{ type: "action.started", requestId: ctx.requestId, data: base }],
        notify: false,
      };
    case "finish":
      if (run.status !== "running")
        throw new AppError("conflict", `This action is ${run.status}; its result was not recorded again.`);
      return {
        patch: {
          status: event.outcome,
          finishedAt: event.now,
          sealedResult: event.sealedResult,
          resultSha256: event.resultSha256,
        },
        audit: [
          {
            type: `action.${event.outcome}`,
            requestId: ctx.requestId,
            data: { ...base, approvers: ctx.approverIds, outcome: event.outcome, resultSha256: event.resultSha256 },
          },
        ],
        notify: true,
      };
    case "lost": {
      if (run.status !== "running" || !run.claimedAt)
        throw new AppError("conflict", `This action is ${run.status}, not running.`);
      if (event.now.getTime() - run.claimedAt.getTime() < event.claimTimeoutMs)
        throw new AppError("conflict", "This action may still be running.");
      return {
        patch: { status: "unknown", finishedAt: event.now },
        audit: [
          {
            type: "action.unknown",
            requestId: ctx.requestId,
            data: { ...base, approvers: ctx.approverIds, outcome: "unknown" },
          },
        ],
        notify: true,
      };
    }
  }
}
