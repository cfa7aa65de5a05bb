import { describe, expect, it } from "vitest";
import { checkPolicyConsistency } from "../../src/domain/policy/policy-consistency.js";
import { PolicyFileSchema } from "../../src/domain/policy/policy-schema.js";
import { baseInput, makeBook, type PolicyFileInput, parseFile, TUESDAY_10_UTC, thrown } from "./fixture.js";

/** A CI pipeline: only staging-db, never approved by a person, auto-approved for 15 minutes with a run id. */
function withPipeline(input: PolicyFileInput, humanApproval = false): void {
  input.people!.push({
    id: "ci-deploy",
    email: "ci-deploy@example.com",
    service: { resources: ["staging-db"], humanApproval },
  });
  input.groups!.sre!.push("ci-deploy");
  input.policies[2]!.autoApprove = [
    {
      reason: "CI deploy job with a run id",
      requester: "ci-deploy",
      resources: ["staging-db"],
      maxDuration: "15m",
      ticketPattern: "^[0-9]+$",
    },
  ];
}

describe("service identities", () => {
  const book = makeBook((input) => withPipeline(input));
  const ask = (extra: { durationSeconds?: number; ticket?: string; resourceId?: string }) =>
    book.evaluateRequest(
      { requesterId: "ci-deploy", resourceId: "staging-db", reason: "deploy", ...extra },
      TUESDAY_10_UTC,
    );

  it("is auto-approved by the rule written for it: its resource, at most 15 minutes, with a run id", () => {
    const evaluation = ask({ durationSeconds: 900, ticket: "4711" });
    expect(evaluation.autoApproval?.reason).toBe("CI deploy job with a run id");
  });

  it("is never sent to a person: without a run id the request is refused, naming what was missing", () => {
    const error = thrown(() => ask({ durationSeconds: 900 }));
    expect(error.code).toBe("policy_violation");
    expect(error.message).toContain("never approved by a person");
    expect(error.message).toContain("no ticket / run id was given");
  });

  it("is refused when longer than the rule allows or the run id does not match", () => {
    expect(thrown(() => ask({ durationSeconds: 1800, ticket: "4711" })).message).toContain("longer than 15m");
    expect(thrown(() => ask({ durationSeconds: 600, ticket: "abc" })).message).toContain('"abc" does not match');
  });

  it("may only ask for its own resources, even where a policy would let its group ask", () => {
    const error = thrown(() => ask({ resourceId: "prod-db", ticket: "OPS-1" }));
    expect(error.code).toBe("forbidden");
    expect(error.message).toContain("may only ask for staging-db");
    expect(book.requestableResources("ci-deploy").map((entry) => entry.resourceId)).toEqual(["staging-db"]);
  });

  it("the rule approves no one else, and people still decide for humans", () => {
    const evaluation = book.evaluateRequest(
      { requesterId: "alice", resourceId: "staging-db", durationSeconds: 600, ticket: "1" },
      TUESDAY_10_UTC,
    );
    expect(evaluation.autoApproval).toBeNull();
    expect(evaluation.steps.length).toBeGreaterThan(0);
  });

  it("with humanApproval: true, an unmatched request goes to the approvers instead", () => {
    const lenient = makeBook((input) => withPipeline(input, true));
    const evaluation = lenient.evaluateRequest(
      { requesterId: "ci-deploy", resourceId: "staging-db", durationSeconds: 3600 },
      TUESDAY_10_UTC,
    );
    expect(evaluation.autoApproval).toBeNull();
  });

  it("explain says refused for an unmatched request and auto_approve for a matching duration", () => {
    expect(book.explain("ci-deploy", "staging-db", TUESDAY_10_UTC, 3600).outcome).toBe("refused");
    expect(book.explain("ci-deploy", "prod-db", TUESDAY_10_UTC).outcome).toBe("refused");
  });

  it("names unknown resources and rule resources outside the policy", () => {
    const input = baseInput();
    withPipeline(input);
    input.people!.at(-1)!.service!.resources = ["nope"];
    input.policies[2]!.autoApprove![0]!.resources = ["prod-db"];
    input.policies[2]!.autoApprove![0]!.ticketPattern = "(";
    const messages = checkPolicyConsistency(parseFile(input)).map((p) => `${p.path.join(".")}: ${p.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^people\.5\.service\.resources\.0: unknown resource "nope"/),
        'policies.2.autoApprove.0.resources.0: "prod-db" is not one of this policy\'s resources',
        expect.stringMatching(/^policies\.2\.autoApprove\.0\.ticketPattern: is not a valid regular expression/),
      ]),
    );
  });

  it("a rule with only `requester` is a valid condition; service.resources may not be empty", () => {
    const input = baseInput();
    input.policies[0]!.autoApprove = [{ reason: "x", requester: "alice" }];
    expect(PolicyFileSchema.safeParse(input).success).toBe(true);
    input.people!.push({ id: "svc", email: "svc@example.com", service: { resources: [] } });
    expect(PolicyFileSchema.safeParse(input).success).toBe(false);
  });
});
