import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import type { BenchPerson } from "./bench-policy.js";

/** The resource whose active grant lets `kubectl exec` into namespace prod through. */
export const GUARDED_RESOURCE = "prod-exec";

export interface AdmissionCast {
  /** Each gets a grant of prod-exec before the load: their reviews are allowed. */
  holders: BenchPerson[];
  /** Never granted: their reviews in prod are refused. */
  others: BenchPerson[];
  approver: BenchPerson;
  admin: BenchPerson;
}

const person = (id: string): BenchPerson => ({ id, token: `bench_${randomBytes(24).toString("base64url")}` });
const numbered = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => person(`${prefix}-${String(i + 1).padStart(3, "0")}`));

export function createAdmissionCast(holders: number, others: number): AdmissionCast {
  return {
    holders: numbered("holder", holders),
    others: numbered("other", others),
    approver: person("approver"),
    admin: person("admin"),
  };
}

/** The Kubernetes username of a bench person (their email: no `kubernetes` field). */
export const usernameOf = (id: string) => `${id}@bench.invalid`;

export function apiTokens(cast: AdmissionCast): string {
  return [...cast.holders, ...cast.others, cast.approver, cast.admin].map((p) => `${p.id}=${p.token}`).join(",");
}

/** examples/kubernetes-guardrails.yaml's guardrail, with the bench's people. */
export function admissionPolicyYaml(cast: AdmissionCast): string {
  const requesters = [...cast.holders, ...cast.others];
  return stringify({
    version: 1,
    people: [
      ...[...requesters, cast.approver].map((p) => ({ id: p.id, email: usernameOf(p.id) })),
      { id: cast.admin.id, email: usernameOf(cast.admin.id), admin: true },
    ],
    groups: { requesters: requesters.map((p) => p.id), approvers: [cast.approver.id] },
    connectors: { guardrail: { type: "noop", config: {} } },
    resources: { [GUARDED_RESOURCE]: { connector: "guardrail", principal: "{{ email }}" } },
    policies: [
      {
        id: GUARDED_RESOURCE,
        resources: [GUARDED_RESOURCE],
        requesters: { groups: ["requesters"] },
        duration: { default: "30m", max: "2h" },
        reason: { required: false },
        approvers: { groups: ["approvers"] },
      },
    ],
    kubernetes: {
      guardrails: [
        {
          id: GUARDED_RESOURCE,
          match: [
            { operations: ["CONNECT"], resource: "pods", subResource: "exec" },
            { operations: ["CONNECT"], resource: "pods", subResource: "attach" },
            { operations: ["DELETE"], apiGroup: "apps", resource: "deployments" },
          ],
          namespaces: ["prod"],
          requires: [GUARDED_RESOURCE],
        },
      ],
    },
  });
}

/** `kubectl exec` as the API server reviews it (see test/admission/admission-reviews.ts). */
export function execReviewBody(uid: string, username: string, namespace: string): string {
  const pods = { group: "", version: "v1", resource: "pods" };
  const kind = { group: "", version: "v1", kind: "PodExecOptions" };
  return JSON.stringify({
    kind: "AdmissionReview",
    apiVersion: "admission.k8s.io/v1",
    request: {
      uid,
      kind,
      resource: pods,
      subResource: "exec",
      requestKind: kind,
      requestResource: pods,
      requestSubResource: "exec",
      name: "web-0",
      namespace,
      operation: "CONNECT",
      userInfo: { username, groups: ["system:authenticated"] },
      object: { kind: "PodExecOptions", apiVersion: "v1", stdin: true, stdout: true, tty: true, command: ["sh"] },
      oldObject: null,
      dryRun: false,
      options: null,
    },
  });
}
