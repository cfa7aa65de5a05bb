import { describe, expect, it } from "vitest";
import { makeBook, TUESDAY_10_UTC } from "./fixture.js";

describe("PolicyBook.explain", () => {
  it("explains a request that needs N of M approvals", () => {
    const explanation = makeBook().explain("alice", "prod-db", TUESDAY_10_UTC);
    expect(explanation).toMatchObject({
      outcome: "needs_approval",
      refusal: null,
      policyId: "prod-read",
      matchedBecause: "policy prod-read: you are in group sre",
      duration: { requestedSeconds: 3600, defaultSeconds: 3600, maxSeconds: 14_400 },
      steps: [{ name: "approval", approverIds: ["bob", "carol"], required: 2, requesterExcluded: false }],
      selfApproval: false,
      autoApproval: null,
      reason: { required: true, pattern: null, hint: null },
      ticket: { required: true, pattern: "^OPS-[0-9]+$", hint: "Use the OPS ticket, e.g. OPS-12." },
      principal: "Alice.Martin",
    });
    expect(explanation.lines).toEqual([
      "Request: alice → prod-db for 1h (default 1h, max 4h).",
      "Matched policy prod-read: you are in group sre.",
      'Grants to principal "Alice.Martin" via connector pg.',
      "Step 1/1 (approval): needs 2 of 2 approver(s): bob, carol.",
      "Self-approval: off.",
      "Auto-approval: no rules.",
      "Reason: required.",
      "Ticket: required, must match ^OPS-[0-9]+$. Hint: Use the OPS ticket, e.g. OPS-12.",
      "Pending requests expire after 24h.",
      "Outcome: needs approval.",
    ]);
  });

  it("shows which auto-approval rule applies and why the others do not", () => {
    const book = makeBook((input) => {
      input.policies[2]!.autoApprove = [
        { reason: "low risk", resourceRisk: "low" },
        {
          reason: "SRE at night",
          requesterInGroup: "sre",
          withinTimeWindow: { days: ["mon"], start: "22:00", end: "06:00", timezone: "Europe/Paris" },
        },
        { reason: "short SRE access", requesterInGroup: "sre", maxDuration: "2h" },
      ];
    });
    const yes = book.explain("alice", "staging-db", TUESDAY_10_UTC);
    expect(yes.outcome).toBe("auto_approve");
    expect(yes.autoApproval).toEqual({ reason: "short SRE access" });
    expect(yes.lines).toContain('Auto-approval: yes ("short SRE access").');
    expect(yes.lines).toContain('  - "low risk": does not match: the resource risk is medium, not low.');
    expect(yes.lines).toContain(
      '  - "SRE at night": does not match: it is tue 11:00 in Europe/Paris, outside mon 22:00-06:00 Europe/Paris.',
    );
    expect(yes.lines.at(-1)).toBe('Outcome: would auto-approve ("short SRE access").');

    const no = book.explain("bob", "staging-db", TUESDAY_10_UTC, 3 * 3600);
    expect(no.outcome).toBe("needs_approval");
    expect(no.autoApprovalRules.map((rule) => rule.unmet)).toEqual([
      ["the resource risk is medium, not low"],
      ["you are not in group sre", "it is tue 11:00 in Europe/Paris, outside mon 22:00-06:00 Europe/Paris"],
      ["you are not in group sre", "3h is longer than 2h"],
    ]);
    expect(no.steps[0]).toMatchObject({ approverIds: ["alice", "carol", "erin"], requesterExcluded: true });
    expect(no.lines).toContain(
      "Step 1/2 (peer): needs 1 of 3 approver(s): alice, carol, erin; bob is excluded (no self-approval).",
    );
  });

  it("says self-approval applies", () => {
    const explanation = makeBook().explain("dave", "demo-admin", TUESDAY_10_UTC);
    expect(explanation.steps).toEqual([
      { name: "approval", approverIds: ["dave"], required: 1, requesterExcluded: false },
    ]);
    expect(explanation.lines).toContain("Self-approval: on (the requester may approve their own request).");
  });

  it("explains, without throwing, why a person may not request a resource", () => {
    const explanation = makeBook().explain("alice", "prod-admin", TUESDAY_10_UTC);
    expect(explanation).toMatchObject({
      outcome: "refused",
      policyId: null,
      steps: [],
      refusal: { code: "forbidden" },
    });
    expect(explanation.lines).toEqual([
      "Request: alice → prod-admin.",
      "Policies listing prod-admin: prod-admin (requesters: groups dba).",
      "Outcome: refused: You may not request prod-admin: no policy lists you as a requester. " +
        "You may request: prod-db, staging-db, demo-admin.",
    ]);
  });

  it("explains unknown people and resources", () => {
    const book = makeBook();
    expect(book.explain("zed", "prod-db", TUESDAY_10_UTC).refusal?.code).toBe("forbidden");
    const unknown = book.explain("alice", "nope", TUESDAY_10_UTC);
    expect(unknown.refusal?.code).toBe("not_found");
    expect(unknown.lines[1]).toBe("No policy lists nope.");
  });

  it("still shows the policy when the duration is over the maximum", () => {
    const explanation = makeBook().explain("alice", "prod-db", TUESDAY_10_UTC, 8 * 3600);
    expect(explanation.outcome).toBe("refused");
    expect(explanation.policyId).toBe("prod-read");
    expect(explanation.steps).toHaveLength(1);
    expect(explanation.lines.at(-1)).toBe("Outcome: refused: 8h is too long: the maximum for prod-db is 4h.");
  });

  it("explains why nobody else can approve", () => {
    const explanation = makeBook().explain("bob", "prod-admin", TUESDAY_10_UTC);
    expect(explanation.outcome).toBe("refused");
    expect(explanation.refusal?.message).toMatch(/^Nobody else can approve this/);
    expect(explanation.lines).toContain(
      "Step 1/1 (approval): needs 2 of 1 approver(s): carol; bob is excluded (no self-approval).",
    );
  });
});
