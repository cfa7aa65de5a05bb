import { describe, expect, it } from "vitest";
import { makeBook, TUESDAY_10_UTC, thrown } from "./fixture.js";

const now = TUESDAY_10_UTC;
const prodRead = { requesterId: "alice", resourceId: "prod-db", reason: "debug incident", ticket: "OPS-7" };

describe("PolicyBook.evaluateRequest", () => {
  it("resolves a matched request with defaults from the policy", () => {
    const evaluation = makeBook().evaluateRequest(prodRead, now);
    expect(evaluation).toMatchObject({
      policyId: "prod-read",
      resourceId: "prod-db",
      durationSeconds: 3600,
      maxDurationSeconds: 4 * 3600,
      steps: [{ name: "approval", approverIds: ["bob", "carol"], required: 2 }],
      autoApproval: null,
      pendingTimeoutSeconds: 24 * 3600,
      selfApproval: false,
      principal: "Alice.Martin",
      matchedBecause: "policy prod-read: you are in group sre",
    });
  });

  it("keeps a requested duration within the maximum", () => {
    expect(makeBook().evaluateRequest({ ...prodRead, durationSeconds: 4 * 3600 }, now).durationSeconds).toBe(4 * 3600);
  });

  it("refuses a person without a Sesame identity", () => {
    const error = thrown(() => makeBook().evaluateRequest({ ...prodRead, requesterId: "zed" }, now));
    expect(error.code).toBe("forbidden");
    expect(error.userMessage).toBe(
      'You have no Sesame identity ("zed"). Ask an admin to add you to people in the policy file.',
    );
  });

  it("refuses an unknown resource and names what the person may request", () => {
    const error = thrown(() => makeBook().evaluateRequest({ ...prodRead, resourceId: "prod-dbb" }, now));
    expect(error.code).toBe("not_found");
    expect(error.userMessage).toBe(
      'There is no resource "prod-dbb". You may request: prod-db, staging-db, demo-admin.',
    );
    expect(error.details).toMatchObject({ field: "resourceId", allowed: ["prod-db", "staging-db", "demo-admin"] });
  });

  it("refuses a resource the person may not request and says which they may", () => {
    const error = thrown(() => makeBook().evaluateRequest({ ...prodRead, resourceId: "prod-admin" }, now));
    expect(error.code).toBe("forbidden");
    expect(error.userMessage).toBe(
      "You may not request prod-admin: no policy lists you as a requester. You may request: prod-db, staging-db, demo-admin.",
    );
  });

  it("refuses a duration over the maximum and names the maximum", () => {
    const error = thrown(() => makeBook().evaluateRequest({ ...prodRead, durationSeconds: 5 * 3600 }, now));
    expect(error.code).toBe("policy_violation");
    expect(error.userMessage).toBe("5h is too long: the maximum for prod-db is 4h.");
    expect(error.details).toEqual({ field: "durationSeconds", requestedSeconds: 5 * 3600, maxSeconds: 4 * 3600 });
  });

  it("refuses 99h in the hours that were asked for, not only as 4d3h", () => {
    const error = thrown(() => makeBook().evaluateRequest({ ...prodRead, durationSeconds: 99 * 3600 }, now));
    expect(error.userMessage).toBe("4d3h (99h) is too long: the maximum for prod-db is 4h.");
    const days = makeBook((input) => {
      input.policies[0]!.duration = { default: "1h", max: "2d" };
    });
    expect(thrown(() => days.evaluateRequest({ ...prodRead, durationSeconds: 99 * 3600 }, now)).userMessage).toBe(
      "4d3h (99h) is too long: the maximum for prod-db is 2d (48h).",
    );
  });

  it.each([0, -60, 1.5, Number.NaN])("refuses a duration of %s seconds", (durationSeconds) => {
    const error = thrown(() => makeBook().evaluateRequest({ ...prodRead, durationSeconds }, now));
    expect(error.code).toBe("invalid_input");
    expect(error.userMessage).toBe("The duration must be longer than zero, e.g. 30m or 1h.");
    expect(error.details).toMatchObject({ field: "durationSeconds" });
  });

  it("refuses a missing or blank required reason", () => {
    for (const reason of [undefined, "   "]) {
      const error = thrown(() => makeBook().evaluateRequest({ ...prodRead, reason }, now));
      expect(error.code).toBe("invalid_input");
      expect(error.userMessage).toBe("A reason is required for prod-db.");
      expect(error.details).toMatchObject({ field: "reason" });
    }
  });

  it("refuses a missing required ticket, with the hint", () => {
    const error = thrown(() => makeBook().evaluateRequest({ ...prodRead, ticket: undefined }, now));
    expect(error.userMessage).toBe("A ticket is required for prod-db. Use the OPS ticket, e.g. OPS-12.");
  });

  it("refuses a ticket that does not match the pattern, with the hint or else the pattern", () => {
    const withHint = thrown(() => makeBook().evaluateRequest({ ...prodRead, ticket: "JIRA-1" }, now));
    expect(withHint.code).toBe("invalid_input");
    expect(withHint.userMessage).toBe(
      'The ticket "JIRA-1" does not look right for prod-db. Use the OPS ticket, e.g. OPS-12.',
    );
    expect(withHint.details).toMatchObject({ field: "ticket", pattern: "^OPS-[0-9]+$" });

    const book = makeBook((input) => {
      input.policies[0]!.ticket = { required: true, pattern: "^OPS-[0-9]+$" };
    });
    const withoutHint = thrown(() => book.evaluateRequest({ ...prodRead, ticket: "JIRA-1" }, now));
    expect(withoutHint.userMessage).toBe(
      'The ticket "JIRA-1" does not look right for prod-db. It must match ^OPS-[0-9]+$.',
    );
  });

  it("checks an optional reason against its pattern only when one is given", () => {
    const book = makeBook((input) => {
      input.policies[3]!.reason = { required: false, pattern: "^[A-Z]" };
    });
    const request = { requesterId: "bob", resourceId: "demo-admin" };
    expect(book.evaluateRequest(request, now).policyId).toBe("demo");
    expect(thrown(() => book.evaluateRequest({ ...request, reason: "lowercase" }, now)).details).toMatchObject({
      field: "reason",
    });
  });
});

describe("approvers of a request", () => {
  it("resolves ordered steps, expanding groups, deduplicated and sorted", () => {
    const { steps } = makeBook().evaluateRequest({ requesterId: "bob", resourceId: "staging-db" }, now);
    expect(steps).toEqual([
      { name: "peer", approverIds: ["alice", "carol", "erin"], required: 1 },
      { name: "step 2", approverIds: ["dave"], required: 1 },
    ]);
  });

  it("removes the requester from every step unless self-approval is on", () => {
    const withoutSelf = makeBook().evaluateRequest({ requesterId: "alice", resourceId: "staging-db" }, now);
    expect(withoutSelf.steps[0]!.approverIds).toEqual(["bob", "carol", "erin"]);

    const selfAllowed = makeBook((input) => {
      input.policies[2]!.selfApproval = true;
    }).evaluateRequest({ requesterId: "alice", resourceId: "staging-db" }, now);
    expect(selfAllowed.selfApproval).toBe(true);
    expect(selfAllowed.steps[0]!.approverIds).toEqual(["alice", "bob", "carol", "erin"]);
  });

  it("keeps the requester as approver under selfApproval: true", () => {
    const evaluation = makeBook().evaluateRequest({ requesterId: "dave", resourceId: "demo-admin" }, now);
    expect(evaluation.steps).toEqual([{ name: "approval", approverIds: ["dave"], required: 1 }]);
  });

  it("refuses when excluding the requester leaves a step short of its N of M", () => {
    const error = thrown(() =>
      makeBook().evaluateRequest({ requesterId: "bob", resourceId: "prod-admin", reason: "fix" }, now),
    );
    expect(error.code).toBe("policy_violation");
    expect(error.userMessage).toBe(
      'Nobody else can approve this: step "approval" needs 2 approvals and only 1 other person can give them ' +
        "(you cannot approve your own request). Ask an admin to add approvers to policy prod-admin.",
    );
    expect(error.details).toMatchObject({ policyId: "prod-admin", required: 2, available: 1, requesterExcluded: true });
  });

  it("lets an auto-approved request through even when no one else could approve it", () => {
    const book = makeBook((input) => {
      input.policies[1]!.autoApprove = [{ reason: "DBAs are trusted", requesterInGroup: "dba" }];
    });
    const evaluation = book.evaluateRequest({ requesterId: "bob", resourceId: "prod-admin", reason: "fix" }, now);
    expect(evaluation.autoApproval).toEqual({ reason: "DBAs are trusted" });
  });

  it("approversFor lists everyone who could approve any step, requester included", () => {
    const book = makeBook();
    expect(book.approversFor("staging")).toEqual(["alice", "bob", "carol", "dave", "erin"]);
    expect(book.approversFor("prod-read")).toEqual(["bob", "carol"]);
    expect(book.approversFor("nope")).toEqual([]);
  });
});
