import { describe, expect, it } from "vitest";
import type { OnCallRoster } from "../../src/domain/policy/approval-steps.js";
import { makeBook, type PolicyFileInput, TUESDAY_10_UTC, thrown } from "./fixture.js";

/** On-call sources, the escalation ladder and break-glass in the policy file, and what explain says of them. */

const withOnCall = () =>
  makeBook((input) => {
    input.oncall = {
      "dba-primary": { provider: "pagerduty", schedule: "PSCHED", level: 1 },
      "dba-secondary": { provider: "pagerduty", schedule: "PSCHED", level: 2 },
    };
    const policy = input.policies[0]!;
    policy.autoApprove = [{ reason: "primary on-call", requesterOnCall: "dba-primary", endWithShift: true }];
    policy.escalation = [
      { after: "10m", action: "remind" },
      { after: "20m", action: "reroute", to: { users: ["dave"] } },
      { after: "30m", action: "page", oncall: "dba-secondary" },
      { after: "1h", action: "expire" },
    ];
    policy.breakGlass = { maxDuration: "30m", page: "dba-primary" };
  });

const roster = (
  entries: Record<string, { identityId: string; until: Date | null }[]>,
  unavailable: string[] = [],
): OnCallRoster => ({
  onCall: new Map(Object.entries(entries)),
  unavailable: new Set(unavailable),
});

describe("on-call in the policy", () => {
  it("auto-approves the requester on call for the named source, ending with the shift", () => {
    const book = withOnCall();
    const until = new Date(TUESDAY_10_UTC.getTime() + 20 * 60_000);
    const evaluation = book.evaluateRequest(
      {
        requesterId: "alice",
        resourceId: "prod-db",
        reason: "x",
        ticket: "OPS-1",
        onCall: roster({ "dba-primary": [{ identityId: "alice", until }] }),
      },
      TUESDAY_10_UTC,
    );
    expect(evaluation.autoApproval).toEqual({
      reason: `primary on-call (on call for dba-primary until ${until.toISOString()}; the grant ends with the shift)`,
      endsBy: until,
    });
  });

  it("never auto-approves when the provider is unavailable, and says people decide", () => {
    const book = withOnCall();
    const evaluation = book.evaluateRequest(
      {
        requesterId: "alice",
        resourceId: "prod-db",
        reason: "x",
        ticket: "OPS-1",
        onCall: roster({}, ["dba-primary"]),
      },
      TUESDAY_10_UTC,
    );
    expect(evaluation.autoApproval).toBeNull();
    expect(evaluation.onCallFallback).toMatch(/On-call for dba-primary could not be checked right now/);
  });

  it("does not auto-approve someone on call at another level, or whose shift ended", () => {
    const book = withOnCall();
    const ended = new Date(TUESDAY_10_UTC.getTime() - 1000);
    const other = book.evaluateRequest(
      {
        requesterId: "alice",
        resourceId: "prod-db",
        reason: "x",
        ticket: "OPS-1",
        onCall: roster({ "dba-secondary": [{ identityId: "alice", until: null }], "dba-primary": [] }),
      },
      TUESDAY_10_UTC,
    );
    expect(other.autoApproval).toBeNull();
    const past = book.evaluateRequest(
      {
        requesterId: "alice",
        resourceId: "prod-db",
        reason: "x",
        ticket: "OPS-1",
        onCall: roster({ "dba-primary": [{ identityId: "alice", until: ended }] }),
      },
      TUESDAY_10_UTC,
    );
    expect(past.autoApproval).toBeNull();
  });

  it("uses the ladder's expire step as the pending deadline and resolves reroute targets", () => {
    const evaluation = withOnCall().evaluateRequest(
      { requesterId: "alice", resourceId: "prod-db", reason: "x", ticket: "OPS-1" },
      TUESDAY_10_UTC,
    );
    expect(evaluation.pendingTimeoutSeconds).toBe(3600);
    expect(evaluation.escalation.map((s) => [s.afterSeconds, s.action, s.approverIds, s.oncall])).toEqual([
      [600, "remind", [], null],
      [1200, "reroute", ["dave"], null],
      [1800, "page", [], "dba-secondary"],
      [3600, "expire", [], null],
    ]);
  });

  it("says pending requests expire when the ladder's expire step does, not after pendingTimeout", () => {
    const explanation = withOnCall().explain("alice", "prod-db", TUESDAY_10_UTC);
    expect(explanation.lines).toContain(
      "Pending requests expire after 1h (the escalation ladder's expire step comes before pendingTimeout 24h).",
    );
    expect(explanation.lines.join("\n")).not.toContain("expire after 24h");
  });

  it("explains the ladder, break-glass, and whether the requester is on call right now", () => {
    const explanation = withOnCall().explain(
      "alice",
      "prod-db",
      TUESDAY_10_UTC,
      undefined,
      roster({
        "dba-primary": [{ identityId: "alice", until: null }],
        "dba-secondary": [{ identityId: "bob", until: null }],
      }),
    );
    expect(explanation.outcome).toBe("auto_approve");
    expect(explanation.lines).toEqual(
      expect.arrayContaining([
        "Escalation while nobody answers:",
        "  - after 10m: remind the approvers (a message that notifies them).",
        "  - after 20m: also ask dave.",
        "  - after 30m: page on-call dba-secondary and ask them to approve (on call now: bob).",
        "  - after 1h: expire the request and tell the requester whom to contact.",
        "Break-glass: allowed, up to 30m, paging dba-primary; reviewed after the fact.",
        'Outcome: would auto-approve ("primary on-call").',
      ]),
    );
    const unknown = withOnCall().explain(
      "alice",
      "prod-db",
      TUESDAY_10_UTC,
      undefined,
      roster({}, ["dba-primary", "dba-secondary"]),
    );
    expect(unknown.outcome).toBe("needs_approval");
    expect(unknown.lines).toContain(
      "  - after 30m: page on-call dba-secondary and ask them to approve (on call now: unknown right now (provider unavailable)).",
    );
    expect(unknown.autoApprovalRules[0]!.unmet).toEqual([
      "on-call for dba-primary could not be checked right now (provider unavailable), so people decide",
    ]);
  });

  it.each([
    [
      "an unknown on-call source",
      (i: PolicyFileInput) => (i.policies[0]!.approvers = { groups: ["dba"], oncall: ["nope"] }),
      /unknown on-call source "nope"/,
    ],
    [
      "a ladder out of order",
      (i: PolicyFileInput) =>
        (i.policies[0]!.escalation = [
          { after: "20m", action: "remind" },
          { after: "10m", action: "remind" },
        ]),
      /must be later than the step before it/,
    ],
    [
      "expire before the end of the ladder",
      (i: PolicyFileInput) =>
        (i.policies[0]!.escalation = [
          { after: "10m", action: "expire" },
          { after: "20m", action: "remind" },
        ]),
      /expire ends the ladder/,
    ],
    [
      "break-glass longer than the policy allows",
      (i: PolicyFileInput) => (i.policies[0]!.breakGlass = { maxDuration: "8h" }),
      /must not be longer than duration.max/,
    ],
  ])("refuses %s", (_what, tweak, message) => {
    expect(thrown(() => makeBook(tweak)).message).toMatch(message);
  });
});
