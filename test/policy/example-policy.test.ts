import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadPolicyFile } from "../../src/config/policy-loader.js";
import { PolicyBook } from "../../src/domain/policy/policy-book.js";

const examplePath = fileURLToPath(new URL("../../examples/policy.yaml", import.meta.url));

describe("examples/policy.yaml", () => {
  it("loads without problems and behaves as its comments say", async () => {
    const book = new PolicyBook(await loadPolicyFile(examplePath));
    const tuesdayMorningParis = new Date("2025-03-04T09:00:00Z");
    const saturday = new Date("2025-03-08T09:00:00Z");

    const officeHours = book.evaluateRequest(
      { requesterId: "alice", resourceId: "prod-db-readonly", reason: "check a slow query" },
      tuesdayMorningParis,
    );
    expect(officeHours).toMatchObject({
      principal: "sesame_demo_alice",
      autoApproval: { reason: "SRE during office hours, up to 1h" },
    });
    expect(officeHours.steps).toEqual([{ name: "approval", approverIds: ["bob", "carol"], required: 1 }]);
    expect(book.explain("alice", "prod-db-readonly", saturday).outcome).toBe("needs_approval");

    const write = book.evaluateRequest(
      { requesterId: "alice", resourceId: "prod-db-admin", reason: "fix", ticket: "INC-42" },
      saturday,
    );
    expect(write.steps.map((step) => [step.name, step.required, step.approverIds])).toEqual([
      ["database owners", 2, ["bob", "carol"]],
      ["admin sign-off", 1, ["dave"]],
    ]);
    expect(book.explain("dave", "demo-admin", saturday).outcome).toBe("auto_approve");
    expect(book.principalFor("dave", "prod-db-readonly")).toBe("sesame_demo_dokafor");
  });
});

describe("examples/on-call.yaml", () => {
  it("loads, and explains its ladder and on-call rules", async () => {
    const book = new PolicyBook(
      await loadPolicyFile(fileURLToPath(new URL("../../examples/on-call.yaml", import.meta.url))),
    );
    const onCall = {
      onCall: new Map([["dba-primary", [{ identityId: "alice", until: null }]]]),
      unavailable: new Set<string>(),
    };
    const explanation = book.explain("alice", "prod-db", new Date("2025-03-04T09:00:00Z"), undefined, onCall);
    expect(explanation.outcome).toBe("auto_approve");
    expect(explanation.escalation.map((step) => step.action)).toEqual(["remind", "reroute", "page", "expire"]);
    expect(book.explain("alice", "prod-db", new Date("2025-03-04T09:00:00Z")).outcome).toBe("needs_approval");
  });
});
