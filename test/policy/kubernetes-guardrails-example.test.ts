import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadPolicyFile, parsePolicyText } from "../../src/config/policy-loader.js";
import { decideAdmission } from "../../src/domain/admission/admission-decision.js";
import { AdmissionReviewSchema } from "../../src/domain/admission/admission-review.js";
import { PolicyBook } from "../../src/domain/policy/policy-book.js";
import { deleteDeploymentReview, execReview } from "../admission/admission-reviews.js";

const EXAMPLE = fileURLToPath(new URL("../../examples/kubernetes-guardrails.yaml", import.meta.url));

describe("examples/kubernetes-guardrails.yaml", () => {
  it("loads, and guards exec, attach and deployment deletes in prod behind prod-exec", async () => {
    const file = await loadPolicyFile(EXAMPLE);
    const book = new PolicyBook(file);
    expect(book.explain("alice", "prod-exec", new Date("2026-12-07T09:00:00Z")).outcome).toBe("needs_approval");
    const now = new Date("2026-12-07T09:00:00Z");
    const context = (grants: { id: string; resourceId: string; expiresAt: Date }[]) => ({
      guardrails: file.kubernetes.guardrails,
      personOf: (username: string) => (username === "alice@example.com" ? "alice" : undefined),
      grantsOf: () => grants,
      requestDuration: (personId: string, resourceId: string) =>
        book.matchPolicy(personId, resourceId)?.duration.default,
      now,
    });
    const attach = execReview();
    attach.request.subResource = "attach";
    for (const body of [execReview(), attach, deleteDeploymentReview()]) {
      const request = AdmissionReviewSchema.parse(body).request;
      expect(decideAdmission(request, context([]))).toMatchObject({ kind: "refused", guardrail: "prod-exec" });
      const grant = { id: "g1", resourceId: "prod-exec", expiresAt: new Date(now.getTime() + 60_000) };
      expect(decideAdmission(request, context([grant]))).toMatchObject({ kind: "allowed", personId: "alice" });
    }
  });

  it("names guardrail mistakes at their line", () => {
    const text = `version: 1
people: [{ id: alice, email: alice@example.com, kubernetes: bob@example.com }, { id: bob, email: bob@example.com }]
connectors: { n: { type: noop } }
resources: { r: { connector: n } }
policies: [{ id: p, resources: [r], requesters: { users: [alice] }, duration: { default: 1h, max: 1h }, approvers: { users: [bob] } }]
kubernetes:
  guardrails:
    - { id: g, match: [{ operations: [GET], resource: pods }], namespaces: [prod], requires: [r] }
    - { id: g, match: [{ operations: [DELETE], resource: pods }], namespaces: [prod], requires: [nope] }
`;
    expect(() => parsePolicyText(text, "policy.yaml")).toThrow(/operations\[0\]/);
    const fixed = text.replace("operations: [GET]", "operations: [CONNECT]");
    const problems = (() => {
      try {
        parsePolicyText(fixed, "policy.yaml");
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(problems).toMatch(/people\[0\]\.kubernetes: Kubernetes username "bob@example.com" is also bob's/);
    expect(problems).toMatch(/kubernetes\.guardrails\[1\]\.id: duplicate guardrail id "g"/);
    expect(problems).toMatch(/kubernetes\.guardrails\[1\]\.requires\[0\]: unknown resource "nope"/);
  });
});
