import { describe, expect, it } from "vitest";
import {
  type ApprovalStepState,
  type DecisionRow,
  draftRequest,
  type EscalationEntry,
  type NewRequest,
  type RequestRow,
  type RequestSnapshot,
  type RequestStatus,
  type SnapshotEscalationStep,
} from "../../src/domain/access-request.js";
import type { Effect } from "../../src/domain/effects.js";
import { AppError, type AppErrorCode } from "../../src/domain/errors.js";
import type { GrantStatus } from "../../src/domain/grant.js";
import {
  BREAK_GLASS_STEP,
  escalationStepDue,
  type RequestContext,
  type RequestEvent,
  type RequestTransition,
  submissionEffects,
  transitionRequest,
} from "../../src/domain/request-machine.js";

// ---------------------------------------------------------------------------------------------
// Fixtures: fixed dates, full rows, a context whose clock and ids never move.
// ---------------------------------------------------------------------------------------------

const CREATED = new Date("2026-03-01T11:00:00.000Z");
const NOW = new Date("2026-03-01T12:00:00.000Z");
const PENDING_UNTIL = new Date("2026-03-01T13:00:00.000Z");
const AFTER_DEADLINE = new Date("2026-03-01T13:00:00.001Z");
const DECIDED_AT = new Date("2026-03-01T11:30:00.000Z");

/** alice requests; bob, carol and dave approve; root is an admin the request does not name. */
const OWNERS: ApprovalStepState = { name: "owners", approverIds: ["bob", "carol", "dave"], required: 1 };
const ADMIN = "root";

const LADDER: SnapshotEscalationStep[] = [
  { afterSeconds: 600, action: "remind", approverIds: [], oncall: null },
  { afterSeconds: 1200, action: "reroute", approverIds: ["erin"], oncall: null },
  { afterSeconds: 3600, action: "expire", approverIds: [], oncall: null },
  { afterSeconds: 1800, action: "page", approverIds: [], oncall: "dba-primary" },
];

function snapshot(overrides: Partial<RequestSnapshot> = {}): RequestSnapshot {
  return {
    policyId: "prod-db",
    steps: [OWNERS],
    selfApproval: false,
    matchedBecause: "policy prod-db: you are in group sre",
    maxDurationSeconds: 14_400,
    extension: { requiresApproval: true, maxTotalSeconds: 28_800 },
    connectorName: "postgres",
    target: { database: "orders", role: "readonly" },
    principal: "alice_ro",
    entitlementKey: "ek-orders-readonly-alice",
    ...overrides,
  };
}

function requestRow(overrides: Partial<RequestRow> = {}): RequestRow {
  return {
    id: "req-1",
    kind: "access",
    requesterId: "alice",
    resourceId: "orders-db",
    policyId: "prod-db",
    durationSeconds: 3600,
    reason: "INC-42: fix the stuck orders",
    ticket: "INC-42",
    status: "pending",
    version: 7,
    snapshot: snapshot(),
    currentStep: 0,
    autoApprovalReason: null,
    decisionReason: null,
    decidedById: null,
    extendsGrantId: null,
    grantId: null,
    pendingUntil: PENDING_UNTIL,
    decidedAt: null,
    createdAt: CREATED,
    decisions: [],
    escalationLog: [],
    breakGlass: false,
    reviewedAt: null,
    reviewedById: null,
    reviewNote: null,
    ...overrides,
  };
}

/** A request as it looks once decided (the decided matrix uses one per status). */
function decidedRow(status: Exclude<RequestStatus, "pending">): RequestRow {
  const by = { approved: "bob", denied: "carol", cancelled: "alice", expired: null }[status];
  return requestRow({
    status,
    version: 9,
    decidedAt: DECIDED_AT,
    decidedById: by,
    grantId: status === "approved" ? "grant-0" : null,
    decisions: by && status !== "cancelled" ? [decision(by, status === "approved" ? "approve" : "deny", 0)] : [],
  });
}

function decision(approverId: string, kind: "approve" | "deny", step: number): DecisionRow {
  return { approverId, kind, step, comment: null, createdAt: DECIDED_AT };
}

function context(overrides: Partial<RequestContext> = {}): RequestContext {
  let issued = 0;
  return {
    now: NOW,
    isStillApprover: () => true,
    isAdmin: (id) => id === ADMIN,
    newId: () => `grant-${++issued}`,
    ...overrides,
  };
}

/** Runs the machine and proves it pure: the input row is exactly as it was. */
function run(row: RequestRow, event: RequestEvent, ctx: RequestContext = context()): RequestTransition {
  const before = structuredClone(row);
  const result = transitionRequest(row, event, ctx);
  expect(row).toStrictEqual(before);
  return result;
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

/** Expects the transition to be refused with `code` and the row to be untouched. */
function refused(row: RequestRow, event: RequestEvent, code: AppErrorCode, ctx: RequestContext = context()): AppError {
  const before = structuredClone(row);
  const error = expectAppError(() => transitionRequest(row, event, ctx), code);
  expect(row).toStrictEqual(before);
  return error;
}

// The effects an approved access request of the default row sets off, written out once.
function grantCreated(grantId: string, overrides: { requestId?: string; subjectId?: string } = {}): Effect[] {
  const requestId = overrides.requestId ?? "req-1";
  return [
    {
      kind: "create_grant",
      grant: {
        id: grantId,
        requestId,
        subjectId: overrides.subjectId ?? "alice",
        resourceId: "orders-db",
        connectorName: "postgres",
        principal: "alice_ro",
        target: { database: "orders", role: "readonly" },
        entitlementKey: "ek-orders-readonly-alice",
        durationSeconds: 3600,
        startsAt: NOW,
        expiresAt: new Date("2026-03-01T13:00:00.000Z"),
      },
    },
    {
      kind: "audit",
      event: {
        type: "grant.scheduled",
        requestId,
        grantId,
        data: { principal: "alice_ro", connectorName: "postgres", durationSeconds: 3600 },
      },
    },
    { kind: "enqueue_activation", grantId },
  ];
}

const PAGED_LOG: EscalationEntry[] = [
  { step: 0, action: "remind", at: CREATED, summary: "reminded the approvers" },
  { step: 3, action: "page", at: CREATED, summary: "paged on-call dba-primary (asked zoe)", paged: "dba-primary" },
  { step: 4, action: "page", at: CREATED, summary: "paged on-call dba-secondary", paged: "dba-secondary" },
  { step: 5, action: "page", at: CREATED, summary: "paged on-call dba-primary again", paged: "dba-primary" },
];

// ---------------------------------------------------------------------------------------------
// approve
// ---------------------------------------------------------------------------------------------

describe("approve", () => {
  it("a single required approval approves, creates the grant and queues its activation", () => {
    const result = run(requestRow(), { type: "approve", actorId: "bob" });
    expect(result.patch).toStrictEqual({
      status: "approved",
      decidedAt: NOW,
      decidedById: "bob",
      grantId: "grant-1",
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "bob", kind: "approve", step: 0, comment: null },
      },
      {
        kind: "audit",
        event: { type: "request.approved", actorId: "bob", requestId: "req-1", data: { status: "approved", step: 0 } },
      },
      ...grantCreated("grant-1"),
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("a comment is recorded with the decision and in the audit row", () => {
    const result = run(requestRow(), { type: "approve", actorId: "carol", comment: "ok for INC-42" });
    expect(result.patch).toStrictEqual({
      status: "approved",
      decidedAt: NOW,
      decidedById: "carol",
      grantId: "grant-1",
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "carol", kind: "approve", step: 0, comment: "ok for INC-42" },
      },
      {
        kind: "audit",
        event: {
          type: "request.approved",
          actorId: "carol",
          requestId: "req-1",
          data: { status: "approved", step: 0, comment: "ok for INC-42" },
        },
      },
      ...grantCreated("grant-1"),
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("the grant takes its id from ctx.newId and its access from the frozen snapshot", () => {
    const row = requestRow({
      snapshot: snapshot({
        connectorName: "kubernetes",
        target: { cluster: "prod", namespace: "payments" },
        principal: "alice@corp",
        entitlementKey: "ek-k8s",
      }),
      durationSeconds: 1800,
    });
    const result = run(row, { type: "approve", actorId: "bob" }, context({ newId: () => "g-42" }));
    expect(result.patch.grantId).toBe("g-42");
    expect(result.effects.slice(2)).toStrictEqual([
      {
        kind: "create_grant",
        grant: {
          id: "g-42",
          requestId: "req-1",
          subjectId: "alice",
          resourceId: "orders-db",
          connectorName: "kubernetes",
          principal: "alice@corp",
          target: { cluster: "prod", namespace: "payments" },
          entitlementKey: "ek-k8s",
          durationSeconds: 1800,
          startsAt: NOW,
          expiresAt: new Date("2026-03-01T12:30:00.000Z"),
        },
      },
      {
        kind: "audit",
        event: {
          type: "grant.scheduled",
          requestId: "req-1",
          grantId: "g-42",
          data: { principal: "alice@corp", connectorName: "kubernetes", durationSeconds: 1800 },
        },
      },
      { kind: "enqueue_activation", grantId: "g-42" },
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("the final approval resolves every on-call source the escalation log paged, once each", () => {
    const result = run(requestRow({ escalationLog: PAGED_LOG }), { type: "approve", actorId: "bob" });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "bob", kind: "approve", step: 0, comment: null },
      },
      {
        kind: "audit",
        event: { type: "request.approved", actorId: "bob", requestId: "req-1", data: { status: "approved", step: 0 } },
      },
      ...grantCreated("grant-1"),
      { kind: "notify_request", notice: "request.decided" },
      { kind: "resolve_pages", requestId: "req-1", sources: ["dba-primary", "dba-secondary"] },
    ]);
  });

  it("an escalation log without pages resolves nothing", () => {
    const log: EscalationEntry[] = [{ step: 0, action: "remind", at: CREATED, summary: "reminded the approvers" }];
    const result = run(requestRow({ escalationLog: log }), { type: "approve", actorId: "bob" });
    expect(result.effects.map((effect) => effect.kind)).not.toContain("resolve_pages");
    expect(result.effects.at(-1)).toStrictEqual({ kind: "notify_request", notice: "request.decided" });
  });
});

describe("approve: N of M", () => {
  const twoOfThree = requestRow({ snapshot: snapshot({ steps: [{ ...OWNERS, required: 2 }] }) });

  it("the first approval records the decision and tells people, without changing the status", () => {
    const result = run(twoOfThree, { type: "approve", actorId: "bob" });
    expect(result.patch).toStrictEqual({});
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "bob", kind: "approve", step: 0, comment: null },
      },
      {
        kind: "audit",
        event: {
          type: "request.approval_recorded",
          actorId: "bob",
          requestId: "req-1",
          data: { status: "pending", step: 0 },
        },
      },
      { kind: "notify_request", notice: "request.approval_recorded" },
    ]);
  });

  it("a partial approval keeps its comment in the audit row", () => {
    const result = run(twoOfThree, { type: "approve", actorId: "bob", comment: "fine by me" });
    expect(result.patch).toStrictEqual({});
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "bob", kind: "approve", step: 0, comment: "fine by me" },
      },
      {
        kind: "audit",
        event: {
          type: "request.approval_recorded",
          actorId: "bob",
          requestId: "req-1",
          data: { status: "pending", step: 0, comment: "fine by me" },
        },
      },
      { kind: "notify_request", notice: "request.approval_recorded" },
    ]);
  });

  it("the second approval approves and creates the grant", () => {
    const oneIn = { ...twoOfThree, version: 8, decisions: [decision("bob", "approve", 0)] };
    const result = run(oneIn, { type: "approve", actorId: "carol" });
    expect(result.patch).toStrictEqual({
      status: "approved",
      decidedAt: NOW,
      decidedById: "carol",
      grantId: "grant-1",
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "carol", kind: "approve", step: 0, comment: null },
      },
      {
        kind: "audit",
        event: {
          type: "request.approved",
          actorId: "carol",
          requestId: "req-1",
          data: { status: "approved", step: 0 },
        },
      },
      ...grantCreated("grant-1"),
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("the same approver approving twice is refused and does not count twice", () => {
    const oneIn = { ...twoOfThree, decisions: [decision("bob", "approve", 0)] };
    const error = refused(oneIn, { type: "approve", actorId: "bob" }, "already_decided");
    expect(error.userMessage).toBe("You already approved this request; it is waiting for other approvers.");
  });

  it("an approver who already approved this step cannot turn it into a denial", () => {
    const oneIn = { ...twoOfThree, decisions: [decision("bob", "approve", 0)] };
    const error = refused(oneIn, { type: "deny", actorId: "bob", reason: "changed my mind" }, "already_decided");
    expect(error.userMessage).toBe(
      "You already approved this step of the request; your approval stands and cannot be turned into a denial. Ask another approver or an admin.",
    );
  });

  it("another approver may still deny after a partial approval", () => {
    const oneIn = { ...twoOfThree, decisions: [decision("bob", "approve", 0)] };
    const result = run(oneIn, { type: "deny", actorId: "dave", reason: "use the replica" });
    expect(result.patch).toStrictEqual({
      status: "denied",
      decidedAt: NOW,
      decidedById: "dave",
      decisionReason: "use the replica",
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "dave", kind: "deny", step: 0, comment: "use the replica" },
      },
      {
        kind: "audit",
        event: {
          type: "request.denied",
          actorId: "dave",
          requestId: "req-1",
          data: { status: "denied", step: 0, reason: "use the replica" },
        },
      },
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });
});

describe("approve: ordered steps", () => {
  const LEAD: ApprovalStepState = { name: "team-lead", approverIds: ["bob"], required: 1 };
  const SECURITY: ApprovalStepState = { name: "security", approverIds: ["sam", "sue"], required: 1 };
  const stepped = requestRow({ snapshot: snapshot({ steps: [LEAD, SECURITY] }) });
  const atSecurity = { ...stepped, currentStep: 1, version: 8, decisions: [decision("bob", "approve", 0)] };

  it("completing step 0 advances to step 1 and tells people the step advanced", () => {
    const result = run(stepped, { type: "approve", actorId: "bob" });
    expect(result.patch).toStrictEqual({ currentStep: 1 });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "bob", kind: "approve", step: 0, comment: null },
      },
      {
        kind: "audit",
        event: {
          type: "request.approval_recorded",
          actorId: "bob",
          requestId: "req-1",
          data: { status: "pending", step: 0 },
        },
      },
      { kind: "notify_request", notice: "request.step_advanced" },
    ]);
  });

  it("a step-1 approver cannot decide while step 0 is open", () => {
    for (const type of ["approve", "deny"] as const) {
      const error = refused(stepped, { type, actorId: "sam" }, "forbidden");
      expect(error.details).toStrictEqual({ step: "team-lead" });
    }
  });

  it("the step-0 approver has no say in step 1", () => {
    const error = refused(atSecurity, { type: "approve", actorId: "bob" }, "forbidden");
    expect(error.details).toStrictEqual({ step: "security" });
  });

  it("the last step's approval approves, recorded against that step", () => {
    const result = run(atSecurity, { type: "approve", actorId: "sue" });
    expect(result.patch).toStrictEqual({
      status: "approved",
      decidedAt: NOW,
      decidedById: "sue",
      grantId: "grant-1",
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "sue", kind: "approve", step: 1, comment: null },
      },
      {
        kind: "audit",
        event: { type: "request.approved", actorId: "sue", requestId: "req-1", data: { status: "approved", step: 1 } },
      },
      ...grantCreated("grant-1"),
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("a deny in step 1 is recorded against step 1", () => {
    const result = run(atSecurity, { type: "deny", actorId: "sam" });
    expect(result.patch).toStrictEqual({ status: "denied", decidedAt: NOW, decidedById: "sam" });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "sam", kind: "deny", step: 1, comment: null },
      },
      {
        kind: "audit",
        event: { type: "request.denied", actorId: "sam", requestId: "req-1", data: { status: "denied", step: 1 } },
      },
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("an N-of-M middle step records approvals, then advances once it has enough", () => {
    const three = requestRow({
      snapshot: snapshot({
        steps: [LEAD, { ...SECURITY, required: 2 }, { name: "cto", approverIds: ["cy"], required: 1 }],
      }),
      currentStep: 1,
      decisions: [decision("bob", "approve", 0)],
    });
    const first = run(three, { type: "approve", actorId: "sam" });
    expect(first.patch).toStrictEqual({});
    expect(first.effects.at(-1)).toStrictEqual({ kind: "notify_request", notice: "request.approval_recorded" });

    const second = run(
      { ...three, decisions: [...three.decisions, decision("sam", "approve", 1)] },
      {
        type: "approve",
        actorId: "sue",
      },
    );
    expect(second.patch).toStrictEqual({ currentStep: 2 });
    expect(second.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "sue", kind: "approve", step: 1, comment: null },
      },
      {
        kind: "audit",
        event: {
          type: "request.approval_recorded",
          actorId: "sue",
          requestId: "req-1",
          data: { status: "pending", step: 1 },
        },
      },
      { kind: "notify_request", notice: "request.step_advanced" },
    ]);
  });

  it("an approval given in an earlier step does not count for the current one", () => {
    // bob approved step 0 and is also named in step 1 (required 2): his step-1 approval is his first there.
    const row = requestRow({
      snapshot: snapshot({ steps: [LEAD, { name: "security", approverIds: ["bob", "sam"], required: 2 }] }),
      currentStep: 1,
      decisions: [decision("bob", "approve", 0)],
    });
    const result = run(row, { type: "approve", actorId: "bob" });
    expect(result.patch).toStrictEqual({});
    expect(result.effects[0]).toStrictEqual({
      kind: "record_decision",
      requestId: "req-1",
      decision: { approverId: "bob", kind: "approve", step: 1, comment: null },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// deny
// ---------------------------------------------------------------------------------------------

describe("deny", () => {
  it("without a reason: denied, the decision and audit row, people told", () => {
    const result = run(requestRow(), { type: "deny", actorId: "bob" });
    expect(result.patch).toStrictEqual({ status: "denied", decidedAt: NOW, decidedById: "bob" });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "bob", kind: "deny", step: 0, comment: null },
      },
      {
        kind: "audit",
        event: { type: "request.denied", actorId: "bob", requestId: "req-1", data: { status: "denied", step: 0 } },
      },
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("with a reason: the reason is saved as decisionReason, the decision's comment and in the audit row", () => {
    const result = run(requestRow(), { type: "deny", actorId: "dave", reason: "use the read-only replica" });
    expect(result.patch).toStrictEqual({
      status: "denied",
      decidedAt: NOW,
      decidedById: "dave",
      decisionReason: "use the read-only replica",
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "dave", kind: "deny", step: 0, comment: "use the read-only replica" },
      },
      {
        kind: "audit",
        event: {
          type: "request.denied",
          actorId: "dave",
          requestId: "req-1",
          data: { status: "denied", step: 0, reason: "use the read-only replica" },
        },
      },
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("resolves the pages the escalation ladder raised", () => {
    const result = run(requestRow({ escalationLog: PAGED_LOG }), { type: "deny", actorId: "bob" });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "bob", kind: "deny", step: 0, comment: null },
      },
      {
        kind: "audit",
        event: { type: "request.denied", actorId: "bob", requestId: "req-1", data: { status: "denied", step: 0 } },
      },
      { kind: "notify_request", notice: "request.decided" },
      { kind: "resolve_pages", requestId: "req-1", sources: ["dba-primary", "dba-secondary"] },
    ]);
  });

  it("never creates a grant", () => {
    const kinds = run(requestRow(), { type: "deny", actorId: "bob" }).effects.map((effect) => effect.kind);
    expect(kinds).not.toContain("create_grant");
    expect(kinds).not.toContain("enqueue_activation");
  });
});

// ---------------------------------------------------------------------------------------------
// cancel
// ---------------------------------------------------------------------------------------------

describe("cancel", () => {
  it("by the requester: cancelled, audited, people told", () => {
    const result = run(requestRow(), { type: "cancel", actorId: "alice" });
    expect(result.patch).toStrictEqual({ status: "cancelled", decidedAt: NOW, decidedById: "alice" });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.cancelled",
          actorId: "alice",
          requestId: "req-1",
          data: { status: "cancelled", step: 0 },
        },
      },
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("resolves the pages the ladder raised", () => {
    const result = run(requestRow({ escalationLog: PAGED_LOG }), { type: "cancel", actorId: "alice" });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.cancelled",
          actorId: "alice",
          requestId: "req-1",
          data: { status: "cancelled", step: 0 },
        },
      },
      { kind: "notify_request", notice: "request.decided" },
      { kind: "resolve_pages", requestId: "req-1", sources: ["dba-primary", "dba-secondary"] },
    ]);
  });

  it("the requester may cancel in the middle of a multi-step approval, at the step it reached", () => {
    const partly = requestRow({
      snapshot: snapshot({ steps: [OWNERS, { name: "security", approverIds: ["sam"], required: 1 }] }),
      currentStep: 1,
      decisions: [decision("bob", "approve", 0)],
    });
    const result = run(partly, { type: "cancel", actorId: "alice" });
    expect(result.patch).toStrictEqual({ status: "cancelled", decidedAt: NOW, decidedById: "alice" });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.cancelled",
          actorId: "alice",
          requestId: "req-1",
          data: { status: "cancelled", step: 1 },
        },
      },
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("someone the request does not name is told it does not exist", () => {
    const error = refused(requestRow(), { type: "cancel", actorId: "mallory" }, "not_found");
    expect(error.userMessage).toBe("There is no request req-1 that you can see.");
  });

  it("someone the request does not name learns nothing about a decided one either", () => {
    refused(decidedRow("approved"), { type: "cancel", actorId: "mallory" }, "not_found");
  });

  it("an approver is refused with forbidden", () => {
    const error = refused(requestRow(), { type: "cancel", actorId: "bob" }, "forbidden");
    expect(error.userMessage).toBe("Only the person who made this request can cancel it.");
  });

  it("an admin sees the request but cannot cancel it for the requester", () => {
    refused(requestRow(), { type: "cancel", actorId: ADMIN }, "forbidden");
  });
});

// ---------------------------------------------------------------------------------------------
// auto_approve
// ---------------------------------------------------------------------------------------------

describe("auto_approve", () => {
  const RULE = "on-call engineer, low-risk resource";

  it("approves with the rule as the reason and nobody as the decider, and creates the grant", () => {
    const result = run(requestRow(), { type: "auto_approve", reason: RULE });
    expect(result.patch).toStrictEqual({
      status: "approved",
      decidedAt: NOW,
      decidedById: null,
      autoApprovalReason: RULE,
      grantId: "grant-1",
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.auto_approved",
          actorId: null,
          requestId: "req-1",
          data: { status: "approved", step: 0, rule: RULE },
        },
      },
      ...grantCreated("grant-1"),
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("break-glass raises the alarm instead of the usual decided notice", () => {
    const result = run(requestRow({ breakGlass: true }), { type: "auto_approve", reason: "break-glass" });
    expect(result.patch).toStrictEqual({
      status: "approved",
      decidedAt: NOW,
      decidedById: null,
      autoApprovalReason: "break-glass",
      grantId: "grant-1",
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.auto_approved",
          actorId: null,
          requestId: "req-1",
          data: { status: "approved", step: 0, rule: "break-glass" },
        },
      },
      ...grantCreated("grant-1"),
      { kind: "raise_break_glass_alarm", requestId: "req-1" },
    ]);
  });

  it("works on a fresh draft, the way a new request is born approved", () => {
    const draft = draftRequest(newRequest(), { now: CREATED, newId: () => "req-9" });
    const result = run(draft, { type: "auto_approve", reason: RULE }, context({ now: CREATED }));
    expect(result.patch).toStrictEqual({
      status: "approved",
      decidedAt: CREATED,
      decidedById: null,
      autoApprovalReason: RULE,
      grantId: "grant-1",
    });
    expect(result.effects.map((effect) => effect.kind)).toStrictEqual([
      "audit",
      "create_grant",
      "audit",
      "enqueue_activation",
      "notify_request",
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// expire
// ---------------------------------------------------------------------------------------------

describe("expire", () => {
  it("exactly at the deadline: expired, decided by nobody, people told", () => {
    const result = run(requestRow(), { type: "expire" }, context({ now: PENDING_UNTIL }));
    expect(result.patch).toStrictEqual({ status: "expired", decidedAt: PENDING_UNTIL, decidedById: null });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: { type: "request.expired", actorId: null, requestId: "req-1", data: { status: "expired", step: 0 } },
      },
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("after the deadline, resolving the pages the ladder raised", () => {
    const result = run(
      requestRow({ escalationLog: PAGED_LOG, currentStep: 0 }),
      { type: "expire" },
      context({ now: AFTER_DEADLINE }),
    );
    expect(result.patch).toStrictEqual({ status: "expired", decidedAt: AFTER_DEADLINE, decidedById: null });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: { type: "request.expired", actorId: null, requestId: "req-1", data: { status: "expired", step: 0 } },
      },
      { kind: "notify_request", notice: "request.decided" },
      { kind: "resolve_pages", requestId: "req-1", sources: ["dba-primary", "dba-secondary"] },
    ]);
  });

  it.each([
    { name: "1 ms before the deadline", now: new Date(PENDING_UNTIL.getTime() - 1) },
    { name: "long before the deadline", now: NOW },
  ])("$name is refused with conflict", ({ now }) => {
    const error = refused(requestRow(), { type: "expire" }, "conflict", context({ now }));
    expect(error.userMessage).toBe("This request has not reached its pending deadline yet.");
  });
});

// ---------------------------------------------------------------------------------------------
// extension requests
// ---------------------------------------------------------------------------------------------

describe("extension requests", () => {
  const extension = requestRow({
    id: "req-2",
    kind: "extension",
    durationSeconds: 1800,
    extendsGrantId: "grant-0",
  });
  const active = context({ extendedGrantStatus: "active" });

  it("the final approval extends the grant (up to the policy's total) instead of creating one", () => {
    const result = run(extension, { type: "approve", actorId: "bob" }, active);
    expect(result.patch).toStrictEqual({ status: "approved", decidedAt: NOW, decidedById: "bob" });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-2",
        decision: { approverId: "bob", kind: "approve", step: 0, comment: null },
      },
      {
        kind: "audit",
        event: { type: "request.approved", actorId: "bob", requestId: "req-2", data: { status: "approved", step: 0 } },
      },
      {
        kind: "extend_grant",
        grantId: "grant-0",
        requestId: "req-2",
        additionalSeconds: 1800,
        maxTotalSeconds: 28_800,
      },
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("an auto-approved extension extends the grant too", () => {
    const result = run(extension, { type: "auto_approve", reason: "no re-approval needed" }, active);
    expect(result.patch).toStrictEqual({
      status: "approved",
      decidedAt: NOW,
      decidedById: null,
      autoApprovalReason: "no re-approval needed",
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.auto_approved",
          actorId: null,
          requestId: "req-2",
          data: { status: "approved", step: 0, rule: "no re-approval needed" },
        },
      },
      {
        kind: "extend_grant",
        grantId: "grant-0",
        requestId: "req-2",
        additionalSeconds: 1800,
        maxTotalSeconds: 28_800,
      },
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  const inactive: (GrantStatus | "missing")[] = [
    "scheduled",
    "revoking",
    "revoked",
    "grant_failed",
    "revoke_failed",
    "missing",
  ];

  it.each(inactive)("approving when the grant is %s is refused with conflict", (status) => {
    const error = refused(
      extension,
      { type: "approve", actorId: "bob" },
      "conflict",
      context({ extendedGrantStatus: status }),
    );
    expect(error.userMessage).toBe(
      `The grant this extension is for is no longer active (${status}), so there is nothing to extend. Deny the extension or let it expire.`,
    );
  });

  it("approving without knowing the grant's status counts as missing", () => {
    const error = refused(extension, { type: "approve", actorId: "bob" }, "conflict", context());
    expect(error.userMessage).toContain("(missing)");
  });

  it("a partial approval is refused too when the grant is gone (nothing left to extend)", () => {
    const twoOfThree = { ...extension, snapshot: snapshot({ steps: [{ ...OWNERS, required: 2 }] }) };
    refused(twoOfThree, { type: "approve", actorId: "bob" }, "conflict", context({ extendedGrantStatus: "revoked" }));
    expect(run(twoOfThree, { type: "approve", actorId: "bob" }, active).patch).toStrictEqual({});
  });

  it("denying is still possible when the grant is no longer active", () => {
    const result = run(extension, { type: "deny", actorId: "bob" }, context({ extendedGrantStatus: "revoked" }));
    expect(result.patch).toStrictEqual({ status: "denied", decidedAt: NOW, decidedById: "bob" });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-2",
        decision: { approverId: "bob", kind: "deny", step: 0, comment: null },
      },
      {
        kind: "audit",
        event: { type: "request.denied", actorId: "bob", requestId: "req-2", data: { status: "denied", step: 0 } },
      },
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// escalate
// ---------------------------------------------------------------------------------------------

describe("escalate", () => {
  const SECURITY: ApprovalStepState = { name: "security", approverIds: ["sam"], required: 1 };
  const laddered = requestRow({ snapshot: snapshot({ escalation: LADDER }) });

  it("remind: logs the entry at ctx.now, audits it, tells people and reminds the approvers; they stay as they were", () => {
    const result = run(laddered, { type: "escalate", step: 0, summary: "reminded the approvers", addApproverIds: [] });
    const entry: EscalationEntry = { step: 0, action: "remind", at: NOW, summary: "reminded the approvers" };
    expect(result.patch).toStrictEqual({ escalationLog: [entry], snapshot: snapshot({ escalation: LADDER }) });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.escalated",
          actorId: null,
          requestId: "req-1",
          data: { step: 0, action: "remind", summary: "reminded the approvers" },
        },
      },
      { kind: "notify_escalated", entry },
      // An edited card notifies nobody: the remind step asks for a message of its own.
      { kind: "remind_approvers", step: 0 },
    ]);
  });

  it("reroute: adds the new approvers to the current step only, sorted and without duplicates", () => {
    const row = requestRow({
      snapshot: snapshot({ steps: [OWNERS, SECURITY], escalation: LADDER }),
      currentStep: 1,
      decisions: [decision("bob", "approve", 0)],
      escalationLog: [{ step: 0, action: "remind", at: CREATED, summary: "reminded the approvers" }],
    });
    const result = run(row, {
      type: "escalate",
      step: 1,
      summary: "also asked erin, abe",
      addApproverIds: ["erin", "sam", "abe", "erin"],
    });
    const entry: EscalationEntry = { step: 1, action: "reroute", at: NOW, summary: "also asked erin, abe" };
    expect(result.patch).toStrictEqual({
      escalationLog: [...row.escalationLog, entry],
      snapshot: snapshot({
        steps: [OWNERS, { name: "security", approverIds: ["abe", "erin", "sam"], required: 1 }],
        escalation: LADDER,
      }),
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.escalated",
          actorId: null,
          requestId: "req-1",
          data: { step: 1, action: "reroute", summary: "also asked erin, abe" },
        },
      },
      { kind: "notify_escalated", entry },
    ]);
  });

  it("reroute keeps the on-call approvers as they were", () => {
    const row = requestRow({ snapshot: snapshot({ escalation: LADDER, onCallApproverIds: ["yan"] }) });
    const result = run(row, { type: "escalate", step: 1, summary: "also asked erin", addApproverIds: ["erin"] });
    expect(result.patch.snapshot?.onCallApproverIds).toStrictEqual(["yan"]);
  });

  it("page: records the source paged, and the people asked become on-call approvers too", () => {
    const row = requestRow({ snapshot: snapshot({ escalation: LADDER, onCallApproverIds: ["yan"] }) });
    const result = run(row, {
      type: "escalate",
      step: 3,
      summary: "paged on-call dba-primary (asked zoe, bob)",
      addApproverIds: ["zoe", "bob", "yan"],
      paged: "dba-primary",
    });
    const entry: EscalationEntry = {
      step: 3,
      action: "page",
      at: NOW,
      summary: "paged on-call dba-primary (asked zoe, bob)",
      paged: "dba-primary",
    };
    expect(result.patch).toStrictEqual({
      escalationLog: [entry],
      snapshot: snapshot({
        steps: [{ ...OWNERS, approverIds: ["bob", "carol", "dave", "yan", "zoe"] }],
        escalation: LADDER,
        onCallApproverIds: ["yan", "zoe", "bob"],
      }),
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.escalated",
          actorId: null,
          requestId: "req-1",
          data: {
            step: 3,
            action: "page",
            summary: "paged on-call dba-primary (asked zoe, bob)",
            paged: "dba-primary",
          },
        },
      },
      { kind: "notify_escalated", entry },
    ]);
  });

  it("page on a row without on-call approvers starts the list", () => {
    const result = run(laddered, {
      type: "escalate",
      step: 3,
      summary: "paged on-call dba-primary (asked zoe)",
      addApproverIds: ["zoe"],
      paged: "dba-primary",
    });
    expect(result.patch.snapshot?.onCallApproverIds).toStrictEqual(["zoe"]);
  });

  it("a page that failed records no source (nothing to resolve later)", () => {
    const result = run(laddered, {
      type: "escalate",
      step: 3,
      summary: "could not page on-call dba-primary; nobody Sesame knows is on call",
      addApproverIds: [],
    });
    const entry: EscalationEntry = {
      step: 3,
      action: "page",
      at: NOW,
      summary: "could not page on-call dba-primary; nobody Sesame knows is on call",
    };
    expect(result.patch).toStrictEqual({
      escalationLog: [entry],
      snapshot: snapshot({ escalation: LADDER, onCallApproverIds: [] }),
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.escalated",
          actorId: null,
          requestId: "req-1",
          data: {
            step: 3,
            action: "page",
            summary: "could not page on-call dba-primary; nobody Sesame knows is on call",
          },
        },
      },
      { kind: "notify_escalated", entry },
    ]);
  });

  it("a step that already ran is refused with conflict", () => {
    const ran = requestRow({
      snapshot: snapshot({ escalation: LADDER }),
      escalationLog: [{ step: 1, action: "reroute", at: CREATED, summary: "also asked erin" }],
    });
    const error = refused(
      ran,
      { type: "escalate", step: 1, summary: "also asked erin", addApproverIds: ["erin"] },
      "conflict",
    );
    expect(error.userMessage).toBe("This escalation step has already run or the request was decided.");
  });

  it.each(["approved", "denied", "cancelled", "expired"] as const)(
    "a %s request is refused with conflict",
    (status) => {
      const row = { ...decidedRow(status), snapshot: snapshot({ escalation: LADDER }) };
      refused(row, { type: "escalate", step: 0, summary: "reminded the approvers", addApproverIds: [] }, "conflict");
    },
  );

  it.each([
    { name: "the expire step (the pending deadline does that)", step: 2 },
    { name: "a step the ladder does not have", step: 9 },
    { name: "the break-glass slot", step: BREAK_GLASS_STEP },
  ])("$name is refused with conflict", ({ step }) => {
    refused(laddered, { type: "escalate", step, summary: "x", addApproverIds: [] }, "conflict");
  });

  it("a row from before ladders were frozen into snapshots has nothing to run", () => {
    refused(requestRow(), { type: "escalate", step: 0, summary: "x", addApproverIds: [] }, "conflict");
  });
});

describe("escalationStepDue", () => {
  const laddered = requestRow({ snapshot: snapshot({ escalation: LADDER }) });

  it("returns the ladder step while the request waits and the step has not run", () => {
    expect(escalationStepDue(laddered, 0, NOW)).toStrictEqual(LADDER[0]);
    expect(escalationStepDue(laddered, 3, NOW)).toStrictEqual(LADDER[3]);
  });

  it("returns null for a step that ran, the expire step, a missing step, a decided request or no ladder", () => {
    const ran = { ...laddered, escalationLog: [{ step: 0, action: "remind" as const, at: CREATED, summary: "x" }] };
    expect(escalationStepDue(ran, 0, NOW)).toBeNull();
    expect(escalationStepDue(ran, 1, NOW)).toStrictEqual(LADDER[1]);
    expect(escalationStepDue(laddered, 2, NOW)).toBeNull();
    expect(escalationStepDue(laddered, 4, NOW)).toBeNull();
    expect(escalationStepDue({ ...laddered, status: "approved" }, 0, NOW)).toBeNull();
    expect(escalationStepDue(requestRow(), 0, NOW)).toBeNull();
  });

  it("returns null once the pending deadline passed: nobody could approve it any more, so nobody is paged", () => {
    expect(escalationStepDue(laddered, 0, PENDING_UNTIL)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// break-glass: the page and the review
// ---------------------------------------------------------------------------------------------

const brokenGlass = requestRow({
  breakGlass: true,
  status: "approved",
  version: 8,
  decidedAt: NOW,
  autoApprovalReason: "break-glass",
  grantId: "grant-1",
  reason: "prod is down",
});

describe("break_glass_paged", () => {
  it("records the page before every ladder step, audits it and tells people", () => {
    const result = run(brokenGlass, {
      type: "break_glass_paged",
      summary: "break-glass: paged on-call sec-oncall",
      paged: "sec-oncall",
    });
    const entry: EscalationEntry = {
      step: BREAK_GLASS_STEP,
      action: "page",
      at: NOW,
      summary: "break-glass: paged on-call sec-oncall",
      paged: "sec-oncall",
    };
    expect(BREAK_GLASS_STEP).toBe(-1);
    expect(result.patch).toStrictEqual({ escalationLog: [entry] });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.break_glass_paged",
          actorId: null,
          requestId: "req-1",
          data: { summary: "break-glass: paged on-call sec-oncall" },
        },
      },
      { kind: "notify_request", notice: "request.break_glass" },
    ]);
  });

  it("when nobody was paged, raises an alert as well", () => {
    const summary = "break-glass: could not page on-call sec-oncall";
    const result = run(brokenGlass, { type: "break_glass_paged", summary });
    expect(result.patch).toStrictEqual({
      escalationLog: [{ step: BREAK_GLASS_STEP, action: "page", at: NOW, summary }],
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: { type: "request.break_glass_paged", actorId: null, requestId: "req-1", data: { summary } },
      },
      { kind: "notify_request", notice: "request.break_glass" },
      {
        kind: "alert",
        message: `Break-glass by alice on orders-db: ${summary}`,
        requestId: "req-1",
      },
    ]);
  });

  it("is refused on a request that is not break-glass", () => {
    refused(decidedRow("approved"), { type: "break_glass_paged", summary: "x", paged: "sec-oncall" }, "conflict");
  });

  it("is refused once the page is recorded", () => {
    const paged = {
      ...brokenGlass,
      escalationLog: [{ step: BREAK_GLASS_STEP, action: "page" as const, at: NOW, summary: "paged", paged: "sec" }],
    };
    const error = refused(paged, { type: "break_glass_paged", summary: "again" }, "conflict");
    expect(error.userMessage).toBe("This break-glass request already recorded its page.");
  });
});

describe("review", () => {
  const paged = {
    ...brokenGlass,
    escalationLog: [
      {
        step: BREAK_GLASS_STEP,
        action: "page" as const,
        at: NOW,
        summary: "break-glass: paged on-call sec-oncall",
        paged: "sec-oncall",
      },
    ],
  };

  it("by an approver: records who reviewed, resolves the page and tells people", () => {
    const result = run(paged, { type: "review", actorId: "bob", note: "  looked at the session log, fine  " });
    expect(result.patch).toStrictEqual({
      reviewedAt: NOW,
      reviewedById: "bob",
      reviewNote: "looked at the session log, fine",
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.break_glass_reviewed",
          actorId: "bob",
          requestId: "req-1",
          data: { note: "looked at the session log, fine" },
        },
      },
      { kind: "resolve_pages", requestId: "req-1", sources: ["sec-oncall"] },
      { kind: "notify_request", notice: "request.reviewed" },
    ]);
  });

  it("by an admin the request does not name, without a note and with nothing paged", () => {
    const result = run(brokenGlass, { type: "review", actorId: ADMIN });
    expect(result.patch).toStrictEqual({ reviewedAt: NOW, reviewedById: ADMIN, reviewNote: null });
    expect(result.effects).toStrictEqual([
      {
        kind: "audit",
        event: { type: "request.break_glass_reviewed", actorId: ADMIN, requestId: "req-1", data: { note: null } },
      },
      { kind: "notify_request", notice: "request.reviewed" },
    ]);
  });

  it("a blank note is stored as no note", () => {
    expect(run(brokenGlass, { type: "review", actorId: "carol", note: "   " }).patch.reviewNote).toBeNull();
  });

  it("never by the requester, even when they are an admin", () => {
    const error = refused(
      brokenGlass,
      { type: "review", actorId: "alice" },
      "forbidden",
      context({ isAdmin: (id) => id === "alice" }),
    );
    expect(error.userMessage).toBe("You cannot review your own break-glass access; an approver or admin must.");
  });

  it("not by someone who is neither an approver nor an admin", () => {
    const error = refused(brokenGlass, { type: "review", actorId: "mallory" }, "forbidden");
    expect(error.userMessage).toBe("Only the policy's approvers or an admin can review break-glass access.");
  });

  it("only once", () => {
    const reviewed = { ...brokenGlass, reviewedAt: NOW, reviewedById: "bob", reviewNote: null };
    const error = refused(reviewed, { type: "review", actorId: "carol" }, "already_decided");
    expect(error.userMessage).toBe("This break-glass access was already reviewed by bob at 2026-03-01T12:00:00.000Z.");
  });

  it("a request that is not break-glass has nothing to review", () => {
    const error = refused(decidedRow("approved"), { type: "review", actorId: "bob" }, "not_found");
    expect(error.userMessage).toBe("There is no break-glass request req-1.");
  });
});

// ---------------------------------------------------------------------------------------------
// submissionEffects
// ---------------------------------------------------------------------------------------------

function newRequest(overrides: Partial<NewRequest> = {}): NewRequest {
  return {
    kind: "access",
    requesterId: "alice",
    resourceId: "orders-db",
    policyId: "prod-db",
    durationSeconds: 3600,
    reason: "INC-42: fix the stuck orders",
    ticket: "INC-42",
    snapshot: snapshot(),
    autoApprovalReason: null,
    extendsGrantId: null,
    pendingUntil: PENDING_UNTIL,
    ...overrides,
  };
}

const SUBMITTED_DATA = {
  resourceId: "orders-db",
  policyId: "prod-db",
  durationSeconds: 3600,
  reason: "INC-42: fix the stuck orders",
  ticket: "INC-42",
  matchedBecause: "policy prod-db: you are in group sre",
};

describe("submissionEffects", () => {
  it("a pending request: its audit row, its deadline, each ladder step but expire, its cards", () => {
    const row = requestRow({ snapshot: snapshot({ escalation: LADDER }) });
    expect(submissionEffects(row)).toStrictEqual([
      {
        kind: "audit",
        event: { type: "request.submitted", actorId: "alice", requestId: "req-1", data: SUBMITTED_DATA },
      },
      { kind: "schedule_request_expiry", requestId: "req-1", at: PENDING_UNTIL },
      { kind: "schedule_escalation", requestId: "req-1", step: 0, at: new Date("2026-03-01T11:10:00.000Z") },
      { kind: "schedule_escalation", requestId: "req-1", step: 1, at: new Date("2026-03-01T11:20:00.000Z") },
      { kind: "schedule_escalation", requestId: "req-1", step: 3, at: new Date("2026-03-01T11:30:00.000Z") },
      { kind: "notify_request", notice: "request.submitted" },
    ]);
  });

  it("a request without a ladder schedules only its deadline; the on-call note goes into the audit row", () => {
    const row = requestRow({
      snapshot: snapshot({ onCallNote: "on-call auto-approval skipped: PagerDuty did not answer" }),
      reason: null,
      ticket: null,
    });
    expect(submissionEffects(row)).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "request.submitted",
          actorId: "alice",
          requestId: "req-1",
          data: {
            ...SUBMITTED_DATA,
            reason: null,
            ticket: null,
            onCall: "on-call auto-approval skipped: PagerDuty did not answer",
          },
        },
      },
      { kind: "schedule_request_expiry", requestId: "req-1", at: PENDING_UNTIL },
      { kind: "notify_request", notice: "request.submitted" },
    ]);
  });

  it("a break-glass request is audited as break-glass", () => {
    const approved = requestRow({ breakGlass: true, status: "approved", autoApprovalReason: "break-glass" });
    expect(submissionEffects(approved)).toStrictEqual([
      {
        kind: "audit",
        event: { type: "request.break_glass", actorId: "alice", requestId: "req-1", data: SUBMITTED_DATA },
      },
    ]);
    expect(submissionEffects(requestRow({ breakGlass: true }))[0]).toStrictEqual({
      kind: "audit",
      event: { type: "request.break_glass", actorId: "alice", requestId: "req-1", data: SUBMITTED_DATA },
    });
  });

  it("an extension request is audited as an extension of its grant", () => {
    const row = requestRow({ id: "req-2", kind: "extension", durationSeconds: 1800, extendsGrantId: "grant-0" });
    expect(submissionEffects(row)).toStrictEqual([
      {
        kind: "audit",
        event: {
          type: "extension.submitted",
          actorId: "alice",
          requestId: "req-2",
          grantId: "grant-0",
          data: { additionalSeconds: 1800, reason: "INC-42: fix the stuck orders" },
        },
      },
      { kind: "schedule_request_expiry", requestId: "req-2", at: PENDING_UNTIL },
      { kind: "notify_request", notice: "request.submitted" },
    ]);
  });

  it("a request born auto-approved gets only its audit row (the approval's effects follow it)", () => {
    const draft = draftRequest(newRequest({ snapshot: snapshot({ escalation: LADDER }) }), {
      now: CREATED,
      newId: () => "req-9",
    });
    const auto = transitionRequest(draft, { type: "auto_approve", reason: "low risk" }, context({ now: CREATED }));
    const born: RequestRow = { ...draft, ...auto.patch };
    expect(born.status).toBe("approved");
    expect(submissionEffects(born)).toStrictEqual([
      {
        kind: "audit",
        event: { type: "request.submitted", actorId: "alice", requestId: "req-9", data: SUBMITTED_DATA },
      },
    ]);
  });

  it("draftRequest gives a pending, undecided row with the id and time it gets now", () => {
    const draft = draftRequest(newRequest(), { now: CREATED, newId: () => "req-9" });
    expect(draft).toStrictEqual(
      requestRow({ id: "req-9", version: 1, createdAt: CREATED, pendingUntil: PENDING_UNTIL }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Guards shared by every decision
// ---------------------------------------------------------------------------------------------

const DECIDED: Exclude<RequestStatus, "pending">[] = ["approved", "denied", "cancelled", "expired"];

const EVERY_DECISION_EVENT: { event: RequestEvent; tail: string }[] = [
  { event: { type: "approve", actorId: "bob" }, tail: "Your decision was not recorded." },
  { event: { type: "approve", actorId: "carol", expectedVersion: 9 }, tail: "Your decision was not recorded." },
  { event: { type: "deny", actorId: "dave", reason: "no" }, tail: "Your decision was not recorded." },
  { event: { type: "cancel", actorId: "alice" }, tail: "There is nothing to cancel." },
  { event: { type: "auto_approve", reason: "low risk" }, tail: "Nothing was changed." },
  { event: { type: "expire" }, tail: "Nothing was changed." },
];

const HOW_IT_ENDED: Record<Exclude<RequestStatus, "pending">, string> = {
  approved: "This request was already approved by bob at 2026-03-01T11:30:00.000Z.",
  denied: "This request was already denied by carol at 2026-03-01T11:30:00.000Z.",
  cancelled: "This request was cancelled by its requester at 2026-03-01T11:30:00.000Z.",
  expired: "This request expired without a decision at 2026-03-01T11:30:00.000Z.",
};

describe("a decided request never changes (invariant 3)", () => {
  const cases = DECIDED.flatMap((status) => EVERY_DECISION_EVENT.map(({ event, tail }) => ({ status, event, tail })));

  it.each(cases)("$event.type on a $status request is refused with already_decided", ({ status, event, tail }) => {
    // The clock is past the deadline, so expire would otherwise succeed.
    const error = refused(decidedRow(status), event, "already_decided", context({ now: AFTER_DEADLINE }));
    expect(error.details).toStrictEqual({ status, version: 9 });
    expect(error.userMessage).toBe(`${HOW_IT_ENDED[status]} ${tail}`);
  });

  it("an auto-approval says so instead of naming an approver", () => {
    const auto = { ...decidedRow("approved"), decidedById: null, autoApprovalReason: "low risk", decisions: [] };
    const error = refused(auto, { type: "approve", actorId: "carol" }, "already_decided");
    expect(error.userMessage).toBe(
      "This request was already auto-approved (low risk) at 2026-03-01T11:30:00.000Z. Your decision was not recorded.",
    );
  });

  it("a would-be second approver of an N-of-M request that was approved meanwhile is refused", () => {
    const row = { ...decidedRow("approved"), snapshot: snapshot({ steps: [{ ...OWNERS, required: 2 }] }) };
    for (const type of ["approve", "deny"] as const) refused(row, { type, actorId: "dave" }, "already_decided");
  });
});

describe("the requester never approves their own request (invariant 1)", () => {
  const listed = requestRow({
    snapshot: snapshot({ steps: [{ name: "owners", approverIds: ["alice", "bob"], required: 1 }] }),
  });

  it.each(["approve", "deny"] as const)("%s by the requester is refused even when the step lists them", (type) => {
    const error = refused(listed, { type, actorId: "alice" }, "forbidden");
    expect(error.userMessage).toBe(
      "You cannot approve or deny your own request; one of the designated approvers must decide.",
    );
  });

  it("the requester being an admin changes nothing", () => {
    refused(listed, { type: "approve", actorId: "alice" }, "forbidden", context({ isAdmin: () => true }));
  });

  it("is allowed when the policy says selfApproval: true", () => {
    const self = { ...listed, snapshot: { ...listed.snapshot, selfApproval: true } };
    const result = run(self, { type: "approve", actorId: "alice" });
    expect(result.patch).toStrictEqual({
      status: "approved",
      decidedAt: NOW,
      decidedById: "alice",
      grantId: "grant-1",
    });
    expect(result.effects).toStrictEqual([
      {
        kind: "record_decision",
        requestId: "req-1",
        decision: { approverId: "alice", kind: "approve", step: 0, comment: null },
      },
      {
        kind: "audit",
        event: {
          type: "request.approved",
          actorId: "alice",
          requestId: "req-1",
          data: { status: "approved", step: 0 },
        },
      },
      ...grantCreated("grant-1"),
      { kind: "notify_request", notice: "request.decided" },
    ]);
  });

  it("selfApproval does not make a requester an approver when the step does not list them", () => {
    const self = requestRow({ snapshot: snapshot({ selfApproval: true }) });
    const error = refused(self, { type: "approve", actorId: "alice" }, "forbidden");
    expect(error.details).toStrictEqual({ step: "owners" });
  });
});

describe("only approvers the policy names can decide (invariant 2)", () => {
  it.each(["approve", "deny"] as const)("%s by someone the request does not name is refused", (type) => {
    const error = refused(requestRow(), { type, actorId: "mallory" }, "forbidden");
    expect(error.userMessage).toBe("You are not an approver for this request, so your decision was not recorded.");
    expect(error.details).toBeUndefined();
  });

  it("an admin the request does not name cannot decide either", () => {
    refused(requestRow(), { type: "approve", actorId: ADMIN }, "forbidden");
  });

  it("someone the request does not name learns nothing about a decided or expired request", () => {
    refused(decidedRow("approved"), { type: "approve", actorId: "mallory" }, "forbidden");
    refused(requestRow(), { type: "deny", actorId: "mallory" }, "forbidden", context({ now: AFTER_DEADLINE }));
  });

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
      const error = refused(requestRow(), { type, actorId: "bob" }, "forbidden", ctx);
      expect(error.userMessage).toBe(
        "You are not an approver for this request at its current step, so your decision was not recorded.",
      );
      expect(error.details).toStrictEqual({ step: "owners" });
      expect(asked).toStrictEqual(["bob"]);
      // Other approvers still can.
      expect(run(requestRow(), { type, actorId: "carol" }, ctx).patch.status).toBe(
        type === "approve" ? "approved" : "denied",
      );
    },
  );

  it("isStillApprover cannot promote someone the current step does not list", () => {
    const twoSteps = requestRow({
      snapshot: snapshot({ steps: [OWNERS, { name: "security", approverIds: ["sam"], required: 1 }] }),
    });
    refused(twoSteps, { type: "approve", actorId: "sam" }, "forbidden", context({ isStillApprover: () => true }));
  });

  it("someone added by an escalation step may decide", () => {
    const rerouted = requestRow({ snapshot: snapshot({ steps: [{ ...OWNERS, approverIds: ["bob", "erin"] }] }) });
    expect(run(rerouted, { type: "approve", actorId: "erin" }).patch.decidedById).toBe("erin");
  });
});

describe("a card is bound to a request version (invariant 4)", () => {
  it.each(["approve", "deny"] as const)("%s with a stale expectedVersion is refused with stale", (type) => {
    const error = refused(requestRow(), { type, actorId: "bob", expectedVersion: 6 }, "stale");
    expect(error.details).toStrictEqual({ status: "pending", version: 7 });
    expect(error.userMessage).toBe(
      "This request changed since your card was sent (another approval arrived). Nothing was recorded; look at the current request and decide again.",
    );
  });

  it("the current version is accepted", () => {
    const result = run(requestRow(), { type: "approve", actorId: "bob", expectedVersion: 7 });
    expect(result.patch.status).toBe("approved");
  });
});

describe("the pending deadline", () => {
  it.each([
    { name: "exactly at the deadline", now: PENDING_UNTIL },
    { name: "after the deadline", now: AFTER_DEADLINE },
  ])("a decision $name is refused with already_decided as expired", ({ now }) => {
    for (const type of ["approve", "deny"] as const) {
      const error = refused(requestRow(), { type, actorId: "bob" }, "already_decided", context({ now }));
      expect(error.details).toStrictEqual({ status: "expired", version: 7 });
      expect(error.userMessage).toBe(
        "This request expired at 2026-03-01T13:00:00.000Z without a decision; nothing was recorded. The requester can ask again.",
      );
    }
  });

  it("1 ms before the deadline a decision still counts", () => {
    const result = run(
      requestRow(),
      { type: "approve", actorId: "bob" },
      context({ now: new Date(PENDING_UNTIL.getTime() - 1) }),
    );
    expect(result.patch.status).toBe("approved");
  });

  it("a late click is told the request expired, even when its card is also stale", () => {
    const error = refused(
      requestRow(),
      { type: "approve", actorId: "bob", expectedVersion: 3 },
      "already_decided",
      context({ now: AFTER_DEADLINE }),
    );
    expect(error.details).toStrictEqual({ status: "expired", version: 7 });
  });
});

describe("action requests", () => {
  const action: RequestSnapshot["action"] = {
    kind: "sql",
    text: "UPDATE t SET a = 1 WHERE id = 2",
    sha256: "a".repeat(64),
    class: "write",
    classWhy: "UPDATE changes data",
    limits: { rowLimit: 100, maxAffectedRows: null, statementTimeoutMs: 5000 },
  };
  const actionRow = () => requestRow({ snapshot: snapshot({ action }) });

  it("an approval queues the action's single run instead of creating a grant", () => {
    const { patch, effects } = run(actionRow(), { type: "approve", actorId: "bob", expectedSha256: action.sha256 });
    expect(patch.status).toBe("approved");
    expect(patch.grantId).toBeUndefined();
    expect(effects.map((effect) => effect.kind)).toContain("create_action_run");
    expect(effects.map((effect) => effect.kind)).toContain("enqueue_action_run");
    expect(effects.map((effect) => effect.kind)).not.toContain("create_grant");
  });

  it("an approval of another text (sha256) records nothing", () => {
    const error = expectAppError(
      () => run(actionRow(), { type: "approve", actorId: "bob", expectedSha256: "b".repeat(64) }),
      "stale",
    );
    expect(error.userMessage).toMatch(/sha256 differs/);
  });

  it("a denial runs nothing", () => {
    const { effects } = run(actionRow(), { type: "deny", actorId: "bob" });
    expect(effects.map((effect) => effect.kind)).not.toContain("create_action_run");
  });
});
