import { describe, expect, it } from "vitest";
import { AppError, type AppErrorCode } from "../../src/domain/errors.js";
import {
  type ApprovalStepState,
  type RequestEffect,
  type RequestEvent,
  type RequestState,
  type RequestStatus,
  type TransitionContext,
  transitionRequest,
} from "../../src/domain/request-machine.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const PENDING_UNTIL = new Date("2026-03-01T13:00:00.000Z");
const AFTER_DEADLINE = new Date("2026-03-01T13:00:00.001Z");

const OWNERS: ApprovalStepState = { name: "owners", approverIds: ["bob", "carol", "dave"], required: 1 };

function request(overrides: Partial<RequestState> = {}): RequestState {
  return {
    id: "req-1",
    status: "pending",
    version: 7,
    requesterId: "alice",
    steps: [OWNERS],
    currentStep: 0,
    selfApproval: false,
    approvals: [],
    pendingUntil: PENDING_UNTIL,
    ...overrides,
  };
}

function context(overrides: Partial<TransitionContext> = {}): TransitionContext {
  return { now: NOW, isStillApprover: () => true, ...overrides };
}

/** Runs `work`, expects an AppError with `code`, and returns it for further checks. */
function expectAppError(work: () => unknown, code: AppErrorCode): AppError {
  let caught: unknown;
  try {
    work();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected an AppError with code ${code}`).toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe(code);
  return caught as AppError;
}

// One valid instance of every event, each of which succeeds on a default pending request
// (expire is given a clock past the deadline).
const EVENTS: { event: RequestEvent; ctx: TransitionContext }[] = [
  { event: { type: "approve", actorId: "bob" }, ctx: context() },
  { event: { type: "deny", actorId: "bob" }, ctx: context() },
  { event: { type: "cancel", actorId: "alice" }, ctx: context() },
  { event: { type: "auto_approve", reason: "on-call engineer, low-risk resource" }, ctx: context() },
  { event: { type: "expire" }, ctx: context({ now: AFTER_DEADLINE }) },
];

const DECIDED: RequestStatus[] = ["approved", "denied", "cancelled", "expired"];

describe("transitionRequest: a decided request never changes", () => {
  const cases = DECIDED.flatMap((status) => EVENTS.map(({ event, ctx }) => ({ status, event, ctx })));

  it.each(cases)("$event.type on a $status request throws already_decided", ({ status, event, ctx }) => {
    const state = request({ status });
    const snapshot = structuredClone(state);
    const error = expectAppError(() => transitionRequest(state, event, ctx), "already_decided");
    expect(error.details).toEqual({ status });
    expect(error.userMessage).toContain(status);
    expect(state).toEqual(snapshot);
  });

  it("refuses even a decision that would have been valid while pending (a would-be second approver)", () => {
    const approved = request({
      status: "approved",
      steps: [{ ...OWNERS, required: 2 }],
      approvals: [{ approverId: "bob", step: 0 }],
    });
    expectAppError(
      () => transitionRequest(approved, { type: "approve", actorId: "carol" }, context()),
      "already_decided",
    );
    expectAppError(() => transitionRequest(approved, { type: "deny", actorId: "carol" }, context()), "already_decided");
  });
});

describe("transitionRequest: every event from pending", () => {
  const table: {
    name: string;
    event: RequestEvent;
    ctx: TransitionContext;
    status: RequestStatus;
    effects: RequestEffect[];
  }[] = [
    {
      name: "approve (1 of 1, single step)",
      event: { type: "approve", actorId: "bob" },
      ctx: context(),
      status: "approved",
      effects: [
        { kind: "record_decision", approverId: "bob", decision: "approve", step: 0 },
        { kind: "create_grant" },
        { kind: "notify_requester", outcome: "approved" },
      ],
    },
    {
      name: "approve with a comment",
      event: { type: "approve", actorId: "carol", comment: "ok for the incident" },
      ctx: context(),
      status: "approved",
      effects: [
        { kind: "record_decision", approverId: "carol", decision: "approve", step: 0, comment: "ok for the incident" },
        { kind: "create_grant" },
        { kind: "notify_requester", outcome: "approved" },
      ],
    },
    {
      name: "deny",
      event: { type: "deny", actorId: "bob" },
      ctx: context(),
      status: "denied",
      effects: [
        { kind: "record_decision", approverId: "bob", decision: "deny", step: 0 },
        { kind: "notify_requester", outcome: "denied" },
      ],
    },
    {
      name: "deny with a reason",
      event: { type: "deny", actorId: "dave", reason: "use the read-only role" },
      ctx: context(),
      status: "denied",
      effects: [
        { kind: "record_decision", approverId: "dave", decision: "deny", step: 0, comment: "use the read-only role" },
        { kind: "notify_requester", outcome: "denied" },
      ],
    },
    {
      name: "cancel by the requester",
      event: { type: "cancel", actorId: "alice" },
      ctx: context(),
      status: "cancelled",
      effects: [{ kind: "notify_requester", outcome: "cancelled" }],
    },
    {
      name: "auto_approve",
      event: { type: "auto_approve", reason: "on-call" },
      ctx: context(),
      status: "approved",
      effects: [{ kind: "create_grant" }, { kind: "notify_requester", outcome: "approved" }],
    },
    {
      name: "expire exactly at the deadline",
      event: { type: "expire" },
      ctx: context({ now: PENDING_UNTIL }),
      status: "expired",
      effects: [{ kind: "notify_requester", outcome: "expired" }],
    },
    {
      name: "expire after the deadline",
      event: { type: "expire" },
      ctx: context({ now: AFTER_DEADLINE }),
      status: "expired",
      effects: [{ kind: "notify_requester", outcome: "expired" }],
    },
  ];

  it.each(table)(
    "$name → $status with exactly the documented effects and version + 1",
    ({ event, ctx, status, effects }) => {
      const state = request();
      const snapshot = structuredClone(state);
      const { next, effects: actual } = transitionRequest(state, event, ctx);
      expect(next.status).toBe(status);
      expect(next.version).toBe(state.version + 1);
      expect(actual).toStrictEqual(effects);
      // Identity fields are carried over untouched, and the input is not mutated (the machine is pure).
      expect(next).toMatchObject({
        id: state.id,
        requesterId: state.requesterId,
        steps: state.steps,
        pendingUntil: state.pendingUntil,
        selfApproval: false,
      });
      expect(state).toEqual(snapshot);
    },
  );

  it("records the approval in `approvals` only for approve", () => {
    expect(transitionRequest(request(), { type: "approve", actorId: "bob" }, context()).next.approvals).toEqual([
      { approverId: "bob", step: 0 },
    ]);
    expect(transitionRequest(request(), { type: "deny", actorId: "bob" }, context()).next.approvals).toEqual([]);
    expect(transitionRequest(request(), { type: "auto_approve", reason: "r" }, context()).next.approvals).toEqual([]);
  });
});

describe("transitionRequest: the requester never approves their own request (invariant 1)", () => {
  const requesterIsListed = request({ steps: [{ name: "owners", approverIds: ["alice", "bob"], required: 1 }] });

  it("refuses approve and deny from the requester even when the policy lists them as approver", () => {
    const error = expectAppError(
      () => transitionRequest(requesterIsListed, { type: "approve", actorId: "alice" }, context()),
      "forbidden",
    );
    expect(error.userMessage).toMatch(/your own request/);
    expectAppError(
      () => transitionRequest(requesterIsListed, { type: "deny", actorId: "alice" }, context()),
      "forbidden",
    );
  });

  it("allows it when the policy says selfApproval: true", () => {
    const { next, effects } = transitionRequest(
      { ...requesterIsListed, selfApproval: true },
      { type: "approve", actorId: "alice" },
      context(),
    );
    expect(next.status).toBe("approved");
    expect(effects[0]).toStrictEqual({ kind: "record_decision", approverId: "alice", decision: "approve", step: 0 });
  });

  it("selfApproval does not make a requester an approver when the policy does not name them", () => {
    expectAppError(
      () => transitionRequest(request({ selfApproval: true }), { type: "approve", actorId: "alice" }, context()),
      "forbidden",
    );
  });
});

describe("transitionRequest: only approvers the current policy names can decide (invariant 2)", () => {
  it.each(["approve", "deny"] as const)(
    "%s by someone who is not an approver is refused and names the step",
    (type) => {
      const error = expectAppError(
        () => transitionRequest(request(), { type, actorId: "mallory" }, context()),
        "forbidden",
      );
      expect(error.details).toEqual({ step: "owners" });
    },
  );

  it.each(["approve", "deny"] as const)(
    "%s by an approver who left the group since the request was made is refused",
    (type) => {
      const asked: string[] = [];
      const ctx = context({
        isStillApprover: (id) => {
          asked.push(id);
          return id !== "bob";
        },
      });
      expectAppError(() => transitionRequest(request(), { type, actorId: "bob" }, ctx), "forbidden");
      expect(asked).toContain("bob");
      // Other approvers still can.
      expect(transitionRequest(request(), { type, actorId: "carol" }, ctx).next.status).toBe(
        type === "approve" ? "approved" : "denied",
      );
    },
  );

  it("isStillApprover cannot promote someone the snapshot does not list", () => {
    expectAppError(
      () =>
        transitionRequest(request(), { type: "approve", actorId: "mallory" }, context({ isStillApprover: () => true })),
      "forbidden",
    );
  });
});

describe("transitionRequest: N of M approvers", () => {
  const twoOfThree = request({ steps: [{ ...OWNERS, required: 2 }] });

  it("the first approval keeps the request pending and bumps the version; the second approves", () => {
    const first = transitionRequest(twoOfThree, { type: "approve", actorId: "bob" }, context());
    expect(first.next.status).toBe("pending");
    expect(first.next.version).toBe(twoOfThree.version + 1);
    expect(first.next.approvals).toEqual([{ approverId: "bob", step: 0 }]);
    expect(first.effects).toStrictEqual([{ kind: "record_decision", approverId: "bob", decision: "approve", step: 0 }]);

    const second = transitionRequest(first.next, { type: "approve", actorId: "carol" }, context());
    expect(second.next.status).toBe("approved");
    expect(second.next.version).toBe(twoOfThree.version + 2);
    expect(second.next.approvals).toEqual([
      { approverId: "bob", step: 0 },
      { approverId: "carol", step: 0 },
    ]);
    expect(second.effects).toStrictEqual([
      { kind: "record_decision", approverId: "carol", decision: "approve", step: 0 },
      { kind: "create_grant" },
      { kind: "notify_requester", outcome: "approved" },
    ]);
  });

  it("the same approver approving twice is refused and does not count twice", () => {
    const first = transitionRequest(twoOfThree, { type: "approve", actorId: "bob" }, context());
    expectAppError(
      () => transitionRequest(first.next, { type: "approve", actorId: "bob" }, context()),
      "already_decided",
    );
    expect(first.next.status).toBe("pending");
  });

  it("an approver who already approved this step cannot turn it into a denial", () => {
    const first = transitionRequest(twoOfThree, { type: "approve", actorId: "bob" }, context());
    const error = expectAppError(
      () => transitionRequest(first.next, { type: "deny", actorId: "bob", reason: "changed my mind" }, context()),
      "already_decided",
    );
    expect(error.userMessage).toMatch(/already approved this step/);
  });

  it("one deny after a partial approval ends the request denied", () => {
    const first = transitionRequest(twoOfThree, { type: "approve", actorId: "bob" }, context());
    const denied = transitionRequest(first.next, { type: "deny", actorId: "dave", reason: "no" }, context());
    expect(denied.next.status).toBe("denied");
    expect(denied.effects).toStrictEqual([
      { kind: "record_decision", approverId: "dave", decision: "deny", step: 0, comment: "no" },
      { kind: "notify_requester", outcome: "denied" },
    ]);
  });
});

describe("transitionRequest: ordered approval steps", () => {
  const stepped = request({
    steps: [
      { name: "team-lead", approverIds: ["bob"], required: 1 },
      { name: "security", approverIds: ["sam", "sue"], required: 1 },
    ],
  });

  it("a step-1 approver cannot decide while step 0 is open", () => {
    const approve = expectAppError(
      () => transitionRequest(stepped, { type: "approve", actorId: "sam" }, context()),
      "forbidden",
    );
    expect(approve.details).toEqual({ step: "team-lead" });
    expectAppError(() => transitionRequest(stepped, { type: "deny", actorId: "sam" }, context()), "forbidden");
  });

  it("completing step 0 advances to step 1 and notifies its approvers; step 1 then approves", () => {
    const advanced = transitionRequest(stepped, { type: "approve", actorId: "bob" }, context());
    expect(advanced.next).toMatchObject({ status: "pending", currentStep: 1, version: stepped.version + 1 });
    expect(advanced.effects).toStrictEqual([
      { kind: "record_decision", approverId: "bob", decision: "approve", step: 0 },
      { kind: "notify_approvers", step: 1 },
      { kind: "notify_requester", outcome: "step_advanced" },
    ]);

    // The step-0 approver has no say in step 1.
    expectAppError(() => transitionRequest(advanced.next, { type: "approve", actorId: "bob" }, context()), "forbidden");

    const done = transitionRequest(advanced.next, { type: "approve", actorId: "sue" }, context());
    expect(done.next).toMatchObject({ status: "approved", currentStep: 1, version: stepped.version + 2 });
    expect(done.next.approvals).toEqual([
      { approverId: "bob", step: 0 },
      { approverId: "sue", step: 1 },
    ]);
    expect(done.effects).toStrictEqual([
      { kind: "record_decision", approverId: "sue", decision: "approve", step: 1 },
      { kind: "create_grant" },
      { kind: "notify_requester", outcome: "approved" },
    ]);
  });

  it("a deny in step 1 is recorded against step 1", () => {
    const advanced = transitionRequest(stepped, { type: "approve", actorId: "bob" }, context());
    const denied = transitionRequest(advanced.next, { type: "deny", actorId: "sam" }, context());
    expect(denied.next.status).toBe("denied");
    expect(denied.effects[0]).toStrictEqual({ kind: "record_decision", approverId: "sam", decision: "deny", step: 1 });
  });
});

describe("transitionRequest: cancel and expire", () => {
  it.each(["bob", "mallory"])("cancel by %s (not the requester) is refused", (actorId) => {
    expectAppError(() => transitionRequest(request(), { type: "cancel", actorId }, context()), "forbidden");
  });

  it("the requester may cancel even in the middle of a multi-step approval", () => {
    const partly = request({
      steps: [{ ...OWNERS, required: 2 }],
      approvals: [{ approverId: "bob", step: 0 }],
      version: 8,
    });
    const { next } = transitionRequest(partly, { type: "cancel", actorId: "alice" }, context());
    expect(next).toMatchObject({ status: "cancelled", version: 9, approvals: [{ approverId: "bob", step: 0 }] });
  });

  it("expire before pendingUntil is refused with conflict", () => {
    const justBefore = new Date(PENDING_UNTIL.getTime() - 1);
    expectAppError(() => transitionRequest(request(), { type: "expire" }, context({ now: justBefore })), "conflict");
    expectAppError(() => transitionRequest(request(), { type: "expire" }, context({ now: NOW })), "conflict");
  });
});
