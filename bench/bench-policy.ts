import { randomBytes } from "node:crypto";
import { stringify } from "yaml";

/** A person of the bench policy with the API token that acts as them. */
export interface BenchPerson {
  id: string;
  token: string;
}

/** The people of a bench policy: requesters and approvers, each with an API token. */
export interface BenchCast {
  requesters: BenchPerson[];
  approvers: BenchPerson[];
}

/** The resource every bench request asks for. */
export const BENCH_RESOURCE = "bench-noop";

const person = (id: string): BenchPerson => ({ id, token: `bench_${randomBytes(24).toString("base64url")}` });
const numbered = (prefix: string, count: number): BenchPerson[] =>
  Array.from({ length: count }, (_, i) => person(`${prefix}-${String(i + 1).padStart(3, "0")}`));

export function createCast(requesters: number, approvers: number): BenchCast {
  return { requesters: numbered("requester", requesters), approvers: numbered("approver", approvers) };
}

/** SESAME_API_TOKENS for the whole cast: `identity=token` pairs. */
export function apiTokensEnv(cast: BenchCast): string {
  return [...cast.requesters, ...cast.approvers].map((p) => `${p.id}=${p.token}`).join(",");
}

/**
 * A policy where the requesters group may ask for the `noop` resource (which grants nothing, so
 * the bench measures Sesame, not a target system) and one approval from the approvers group is
 * needed: no auto-approval, no escalation, no chat. Each person's principal is their own id, so
 * concurrent grants of different people never share an entitlement lock.
 */
export function benchPolicyYaml(cast: BenchCast, duration: { default: string; max: string }): string {
  const everyone = [...cast.requesters, ...cast.approvers];
  return stringify({
    version: 1,
    people: everyone.map((p) => ({ id: p.id, email: `${p.id}@bench.invalid` })),
    groups: {
      requesters: cast.requesters.map((p) => p.id),
      approvers: cast.approvers.map((p) => p.id),
    },
    connectors: { bench: { type: "noop", config: {} } },
    resources: {
      [BENCH_RESOURCE]: { description: "Grants nothing (bench)", connector: "bench", principal: "{{ id }}" },
    },
    policies: [
      {
        id: "bench",
        resources: [BENCH_RESOURCE],
        requesters: { groups: ["requesters"] },
        duration,
        reason: { required: false },
        approvers: { groups: ["approvers"] },
      },
    ],
  });
}
