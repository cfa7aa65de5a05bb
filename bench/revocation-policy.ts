import { stringify } from "yaml";

/** The resource every revocation-bench grant is for. */
export const REVOCATION_RESOURCE = "bench-noop";

/** Requesters of the revocation bench: grants are spread over them (each grant is its own entitlement anyway). */
export const REVOCATION_REQUESTERS = Array.from({ length: 20 }, (_, i) => `holder-${String(i + 1).padStart(2, "0")}`);

/**
 * A policy whose requests approve themselves (a low-risk resource and a matching auto-approval
 * rule): the bench loads grants through Sesame's own submit → approve → activate path without
 * anyone clicking. The noop connector grants nothing and keeps every grant apart, so no two
 * grants share an entitlement claim: the bench measures Sesame's revoke path, not a target.
 */
export function revocationPolicyYaml(): string {
  return stringify({
    version: 1,
    people: [...REVOCATION_REQUESTERS, "approver"].map((id) => ({ id, email: `${id}@bench.invalid` })),
    groups: { holders: REVOCATION_REQUESTERS, approvers: ["approver"] },
    connectors: { bench: { type: "noop", config: {} } },
    resources: {
      [REVOCATION_RESOURCE]: { description: "Grants nothing (bench)", connector: "bench", risk: "low" },
    },
    policies: [
      {
        id: "bench",
        resources: [REVOCATION_RESOURCE],
        requesters: { groups: ["holders"] },
        duration: { default: "1h", max: "30d" },
        reason: { required: false },
        approvers: { groups: ["approvers"] },
        autoApprove: [{ reason: "bench load", resourceRisk: "low" }],
      },
    ],
  });
}
