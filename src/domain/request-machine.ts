import { AppError } from "./errors.js";

/**
 * The access-request state machine: pending → approved | denied | cancelled | expired.
 * Pure: the service loads the state, calls `transitionRequest`, saves `next` with an optimistic
 * version check and runs the effects after commit.
 */

export type RequestStatus = "pending" | "approved" | "denied" | "cancelled" | "expired";

export interface ApprovalStepState {
  name: string;
  approverIds: string[];
  required: number;
}

export interface RecordedApproval {
  approverId: string;
  step: number;
}

export interface RequestState {
  id: string;
  status: RequestStatus;
  version: number;
  requesterId: string;
  steps: ApprovalStepState[];
  currentStep: number;
  selfApproval: boolean;
  approvals: RecordedApproval[];
  pendingUntil: Date;
}

export type RequestEvent =
  | { type: "approve"; actorId: string; comment?: string }
  | { type: "deny"; actorId: string; reason?: string }
  | { type: "cancel"; actorId: string }
  | { type: "auto_approve"; reason: string }
  | { type: "expire" };

export type RequestEffect =
  | { kind: "record_decision"; approverId: string; decision: "approve" | "deny"; step: number; comment?: string }
  | { kind: "create_grant" }
  | { kind: "notify_approvers"; step: number }
  | { kind: "notify_requester"; outcome: RequestStatus | "step_advanced" };

export interface RequestTransition {
  next: RequestState;
  effects: RequestEffect[];
}

export interface TransitionContext {
  now: Date;
  /** Whether the person is still an approver under the current policy (membership may have changed). */
  isStillApprover: (personId: string) => boolean;
}

export function transitionRequest(
  state: RequestState,
  event: RequestEvent,
  context: TransitionContext,
): RequestTransition {
  if (state.status !== "pending") {
    throw new AppError("already_decided", `This request is already ${state.status}; nothing was changed.`, {
      details: { status: state.status },
    });
  }
  switch (event.type) {
    case "approve":
      return approve(state, event.actorId, event.comment, context);
    case "deny":
      assertMayDecide(state, event.actorId, context);
      if (state.approvals.some((a) => a.approverId === event.actorId && a.step === state.currentStep)) {
        throw new AppError(
          "already_decided",
          "You already approved this step of the request; your approval stands and cannot be turned into a denial. Ask another approver or an admin.",
        );
      }
      return {
        next: { ...state, status: "denied", version: state.version + 1 },
        effects: [
          {
            kind: "record_decision",
            approverId: event.actorId,
            decision: "deny",
            step: state.currentStep,
            ...(event.reason ? { comment: event.reason } : {}),
          },
          { kind: "notify_requester", outcome: "denied" },
        ],
      };
    case "cancel":
      if (event.actorId !== state.requesterId) {
        throw new AppError("forbidden", "Only the person who made this request can cancel it.");
      }
      return {
        next: { ...state, status: "cancelled", version: state.version + 1 },
        effects: [{ kind: "notify_requester", outcome: "cancelled" }],
      };
    case "auto_approve":
      return {
        next: { ...state, status: "approved", version: state.version + 1 },
        effects: [{ kind: "create_grant" }, { kind: "notify_requester", outcome: "approved" }],
      };
    case "expire":
      if (context.now.getTime() < state.pendingUntil.getTime()) {
        throw new AppError("conflict", "This request has not reached its pending deadline yet.");
      }
      return {
        next: { ...state, status: "expired", version: state.version + 1 },
        effects: [{ kind: "notify_requester", outcome: "expired" }],
      };
  }
}

function assertMayDecide(state: RequestState, actorId: string, context: TransitionContext): void {
  const step = state.steps[state.currentStep];
  if (actorId === state.requesterId && !state.selfApproval) {
    throw new AppError(
      "forbidden",
      "You cannot approve or deny your own request; one of the designated approvers must decide.",
    );
  }
  if (!step?.approverIds.includes(actorId) || !context.isStillApprover(actorId)) {
    throw new AppError(
      "forbidden",
      "You are not an approver for this request at its current step, so your decision was not recorded.",
      {
        details: { step: step?.name },
      },
    );
  }
}

function approve(
  state: RequestState,
  actorId: string,
  comment: string | undefined,
  context: TransitionContext,
): RequestTransition {
  assertMayDecide(state, actorId, context);
  const step = state.steps[state.currentStep]!;
  if (state.approvals.some((a) => a.approverId === actorId && a.step === state.currentStep)) {
    throw new AppError("already_decided", "You already approved this request; it is waiting for other approvers.");
  }
  const approvals = [...state.approvals, { approverId: actorId, step: state.currentStep }];
  const decision: RequestEffect = {
    kind: "record_decision",
    approverId: actorId,
    decision: "approve",
    step: state.currentStep,
    ...(comment ? { comment } : {}),
  };
  const received = approvals.filter((a) => a.step === state.currentStep).length;
  const base = { ...state, approvals, version: state.version + 1 };
  if (received < step.required) {
    return { next: base, effects: [decision] };
  }
  if (state.currentStep + 1 < state.steps.length) {
    const nextStep = state.currentStep + 1;
    return {
      next: { ...base, currentStep: nextStep },
      effects: [
        decision,
        { kind: "notify_approvers", step: nextStep },
        { kind: "notify_requester", outcome: "step_advanced" },
      ],
    };
  }
  return {
    next: { ...base, status: "approved" },
    effects: [decision, { kind: "create_grant" }, { kind: "notify_requester", outcome: "approved" }],
  };
}
