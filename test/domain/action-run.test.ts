import { describe, expect, it } from "vitest";
import {
  type ActionRunContext,
  type ActionRunRow,
  actionStatusOf,
  transitionActionRun,
} from "../../src/domain/actions/action-run.js";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const ctx: ActionRunContext = {
  requestId: "r1",
  requesterId: "alice",
  approverIds: ["bob"],
  spec: {
    kind: "sql",
    text: "UPDATE t SET a = 1 WHERE id = 2",
    sha256: "a".repeat(64),
    class: "write",
    classWhy: "UPDATE changes data",
    limits: { rowLimit: 100, maxAffectedRows: null, statementTimeoutMs: 5000 },
  },
};
const run = (overrides: Partial<ActionRunRow> = {}): ActionRunRow => ({
  id: "x",
  requestId: "r1",
  status: "queued",
  version: 1,
  claimedAt: null,
  finishedAt: null,
  sealedResult: null,
  resultSha256: null,
  createdAt: NOW,
  ...overrides,
});

describe("the action run machine", () => {
  it("claims a queued run once; a second claim is refused whatever the run's state", () => {
    const claimed = transitionActionRun(run(), { type: "claim", now: NOW }, ctx);
    expect(claimed.patch).toEqual({ status: "running", claimedAt: NOW });
    expect(claimed.audit[0]).toMatchObject({ type: "action.started", data: { textSha256: ctx.spec.sha256 } });
    for (const status of ["running", "succeeded", "failed", "unknown"] as const)
      expect(() => transitionActionRun(run({ status }), { type: "claim", now: NOW }, ctx)).toThrow(/runs once/);
  });

  it("records the outcome of a running run with the result's hash, never the text or rows", () => {
    const finished = transitionActionRun(
      run({ status: "running", claimedAt: NOW }),
      { type: "finish", now: NOW, outcome: "succeeded", sealedResult: "sealed", resultSha256: "c".repeat(64) },
      ctx,
    );
    expect(finished.patch).toMatchObject({ status: "succeeded", sealedResult: "sealed" });
    expect(finished.audit[0]?.data).toEqual({
      textSha256: ctx.spec.sha256,
      class: "write",
      approvers: ["bob"],
      outcome: "succeeded",
      resultSha256: "c".repeat(64),
    });
    expect(finished.notify).toBe(true);
    expect(() =>
      transitionActionRun(
        run({ status: "succeeded" }),
        { type: "finish", now: NOW, outcome: "failed", sealedResult: "", resultSha256: "" },
        ctx,
      ),
    ).toThrow(/not recorded again/);
  });

  it("turns a run lost mid-call into unknown only once its claim is older than the bound", () => {
    const claimedAt = new Date(NOW.getTime() - 30_000);
    const lost = { type: "lost", now: NOW, claimTimeoutMs: 60_000 } as const;
    expect(() => transitionActionRun(run({ status: "running", claimedAt }), lost, ctx)).toThrow(/may still be running/);
    const later = { ...lost, now: new Date(NOW.getTime() + 31_000) };
    expect(transitionActionRun(run({ status: "running", claimedAt }), later, ctx).patch.status).toBe("unknown");
  });

  it("says pending while the request waits and not_run when it was refused", () => {
    expect(actionStatusOf("pending", null)).toBe("pending");
    for (const status of ["denied", "cancelled", "expired"]) expect(actionStatusOf(status, null)).toBe("not_run");
    expect(actionStatusOf("approved", run({ status: "failed" }))).toBe("failed");
  });
});
