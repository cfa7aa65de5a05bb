import { describe, expect, it } from "vitest";
import { expiryWarningAt, planChatJobs, warningLeadSeconds } from "../../../src/chat/core/chat-deliveries.js";
import type { RequestRow } from "../../../src/domain/access-request.js";
import type { GrantRow } from "../../../src/domain/grant.js";

const request = (patch: Partial<RequestRow> = {}): RequestRow => ({
  id: "11111111-1111-4111-8111-111111111111",
  kind: "access",
  requesterId: "alice",
  resourceId: "prod-db",
  policyId: "prod",
  durationSeconds: 3600,
  reason: "INC-1",
  ticket: null,
  status: "pending",
  version: 1,
  snapshot: {
    policyId: "prod",
    steps: [{ name: "dba", approverIds: ["alice", "bob", "carol"], required: 1 }],
    selfApproval: false,
    matchedBecause: "policy prod: everyone may request it",
    maxDurationSeconds: 7200,
    extension: { requiresApproval: true, maxTotalSeconds: 7200 },
    connectorName: "noop",
    target: {},
    principal: "alice",
    entitlementKey: "k",
  },
  currentStep: 0,
  autoApprovalReason: null,
  decisionReason: null,
  decidedById: null,
  extendsGrantId: null,
  grantId: null,
  pendingUntil: new Date("2026-11-22T12:00:00Z"),
  decidedAt: null,
  createdAt: new Date("2026-11-22T10:00:00Z"),
  decisions: [],
  escalationLog: [],
  breakGlass: false,
  reviewedAt: null,
  reviewedById: null,
  reviewNote: null,
  ...patch,
});

const grant = (patch: Partial<GrantRow> = {}): GrantRow => ({
  id: "22222222-2222-4222-8222-222222222222",
  requestId: request().id,
  subjectId: "alice",
  resourceId: "prod-db",
  connectorName: "noop",
  principal: "alice",
  target: {},
  entitlementKey: "k",
  status: "active",
  version: 2,
  durationSeconds: 3600,
  startsAt: new Date("2026-11-22T10:00:00Z"),
  expiresAt: new Date("2026-11-22T11:00:00Z"),
  activatedAt: new Date("2026-11-22T10:00:01Z"),
  revokedAt: null,
  revokeReason: null,
  revokedById: null,
  receipt: null,
  hasSecret: false,
  attempts: 1,
  lastError: null,
  createdAt: new Date("2026-11-22T10:00:00Z"),
  updatedAt: new Date("2026-11-22T10:00:01Z"),
  ...patch,
});

const noChannel = () => undefined;

describe("planning chat jobs from core notifications", () => {
  it("sends a submitted request's card to every approver but the requester, plus the policy channel, and tells the requester", () => {
    const jobs = planChatJobs({ type: "request.submitted", request: request() }, ["slack"], (_policy, platform) =>
      platform === "slack" ? "C0APPROVALS" : undefined,
    );
    expect(jobs.map((j) => j.job)).toEqual([
      { kind: "approval_card", platform: "slack", requestId: request().id, recipient: "bob" },
      { kind: "approval_card", platform: "slack", requestId: request().id, recipient: "carol" },
      { kind: "approval_card", platform: "slack", requestId: request().id, recipient: "channel:C0APPROVALS" },
      { kind: "request_notice", platform: "slack", requestId: request().id, notice: "submitted" },
    ]);
  });

  it("gives every job a deterministic id BullMQ accepts (no ':'), so a repeated notification is not sent twice", () => {
    const first = planChatJobs(
      { type: "request.submitted", request: request() },
      ["slack", "teams"],
      () => "19:abc@thread.tacv2",
    );
    const again = planChatJobs(
      { type: "request.submitted", request: request() },
      ["slack", "teams"],
      () => "19:abc@thread.tacv2",
    );
    expect(first.map((j) => j.id)).toEqual(again.map((j) => j.id));
    expect(new Set(first.map((j) => j.id)).size).toBe(first.length);
    for (const { id } of first) expect(id).not.toContain(":");
  });

  it("refreshes every card copy after each recorded approval and decision", () => {
    const partial = planChatJobs(
      { type: "request.approval_recorded", request: request({ version: 2 }) },
      ["teams"],
      noChannel,
    );
    expect(partial.map((j) => j.job.kind)).toEqual(["refresh_cards"]);
    const denied = planChatJobs(
      { type: "request.decided", request: request({ status: "denied", version: 2 }) },
      ["slack"],
      noChannel,
    );
    expect(denied.map((j) => j.job)).toEqual([
      { kind: "refresh_cards", platform: "slack", requestId: request().id },
      { kind: "request_notice", platform: "slack", requestId: request().id, notice: "denied" },
    ]);
    const auto = planChatJobs(
      { type: "request.decided", request: request({ status: "approved", autoApprovalReason: "sre on duty" }) },
      ["slack"],
      noChannel,
    );
    expect(auto.map((j) => j.job)).toContainEqual({
      kind: "request_notice",
      platform: "slack",
      requestId: request().id,
      notice: "auto_approved",
    });
    const cancelled = planChatJobs(
      { type: "request.decided", request: request({ status: "cancelled" }) },
      ["slack"],
      noChannel,
    );
    expect(cancelled.map((j) => j.job.kind)).toEqual(["refresh_cards"]);
  });

  it("sends the next step's approvers their card when a step passes", () => {
    const twoSteps = request({
      currentStep: 1,
      version: 2,
      snapshot: {
        ...request().snapshot,
        steps: [
          { name: "lead", approverIds: ["bob"], required: 1 },
          { name: "security", approverIds: ["dave"], required: 1 },
        ],
      },
      decisions: [{ approverId: "bob", kind: "approve", step: 0, comment: null, createdAt: new Date() }],
    });
    const jobs = planChatJobs({ type: "request.step_advanced", request: twoSteps }, ["slack"], noChannel);
    expect(jobs.map((j) => j.job)).toEqual([
      { kind: "refresh_cards", platform: "slack", requestId: twoSteps.id },
      { kind: "approval_card", platform: "slack", requestId: twoSteps.id, recipient: "dave" },
    ]);
  });

  it("tells the holder about the grant and warns before it ends, at a time tied to that end", () => {
    const jobs = planChatJobs({ type: "grant.activated", grant: grant() }, ["slack"], noChannel);
    expect(jobs[0]!.job).toEqual({ kind: "grant_notice", platform: "slack", grantId: grant().id, notice: "granted" });
    expect(jobs[1]!.job).toMatchObject({ notice: "expiring", expiresAt: "2026-11-22T11:00:00.000Z" });
    expect(jobs[1]!.runAt).toEqual(new Date("2026-11-22T10:50:00Z"));
    const extended = planChatJobs(
      { type: "grant.extended", grant: grant({ expiresAt: new Date("2026-11-22T11:30:00Z") }) },
      ["slack"],
      noChannel,
    );
    expect(extended[1]!.id).not.toEqual(jobs[1]!.id);
  });

  it("warns 10 minutes ahead, or a fifth of a short grant", () => {
    expect(warningLeadSeconds(3600)).toBe(600);
    expect(warningLeadSeconds(1800)).toBe(360);
    expect(warningLeadSeconds(120)).toBe(60);
  });

  it("does not warn about the end of a grant of 60 s or less (nor of one whose warning would fall in its first half)", () => {
    const short = (seconds: number) =>
      grant({
        activatedAt: new Date("2026-11-22T10:00:05Z"),
        expiresAt: new Date(Date.parse("2026-11-22T10:00:05Z") + seconds * 1000),
      });
    for (const seconds of [30, 60, 119]) {
      const jobs = planChatJobs({ type: "grant.activated", grant: short(seconds) }, ["slack"], noChannel);
      expect(jobs.map((j) => j.job)).toEqual([
        { kind: "grant_notice", platform: "slack", grantId: grant().id, notice: "granted" },
      ]);
    }
    const twoMinutes = planChatJobs({ type: "grant.activated", grant: short(120) }, ["slack"], noChannel);
    expect(twoMinutes[1]!.runAt).toEqual(new Date("2026-11-22T10:01:05Z"));
    // Measured from activation: a grant approved long before it became active is not "ending" at once.
    expect(expiryWarningAt(short(60))).toBeUndefined();
  });

  it("redraws the grant's cards (Extend / Relinquish) when it is extended or revoked, once per version", () => {
    const revoked = planChatJobs(
      { type: "grant.revoked", grant: grant({ status: "revoked", version: 4 }) },
      ["slack"],
      noChannel,
    );
    expect(revoked.map((j) => j.job)).toEqual([
      { kind: "refresh_grant_cards", platform: "slack", grantId: grant().id },
      { kind: "grant_notice", platform: "slack", grantId: grant().id, notice: "revoked" },
    ]);
    const extended = planChatJobs({ type: "grant.extended", grant: grant({ version: 3 }) }, ["slack"], noChannel);
    expect(extended[0]!.job).toEqual({ kind: "refresh_grant_cards", platform: "slack", grantId: grant().id });
    expect(extended[0]!.id).not.toBe(revoked[0]!.id);
  });

  it("tells the holder when their grant failed, and plans nothing for platform-less alerts", () => {
    expect(
      planChatJobs({ type: "alert", message: "revoke failed", grantId: grant().id }, ["teams"], noChannel).map(
        (j) => j.job,
      ),
    ).toEqual([
      { kind: "grant_notice", platform: "teams", grantId: grant().id, notice: "failed" },
      // Its cards with Extend / Relinquish no longer offer what cannot be done.
      { kind: "refresh_grant_cards", platform: "teams", grantId: grant().id },
    ]);
    expect(planChatJobs({ type: "alert", message: "sweeper saw something" }, ["teams"], noChannel)).toEqual([]);
  });
});
