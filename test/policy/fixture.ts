import type { z } from "zod";
import { AppError } from "../../src/domain/errors.js";
import { PolicyBook } from "../../src/domain/policy/policy-book.js";
import { type PolicyFile, PolicyFileSchema } from "../../src/domain/policy/policy-schema.js";

/** A small but complete policy, as plain data so each test can tweak a fresh copy. */
export type PolicyFileInput = z.input<typeof PolicyFileSchema>;

export function baseInput(): PolicyFileInput {
  return {
    version: 1,
    people: [
      { id: "alice", email: "Alice.Martin@Example.com", name: "Alice Martin" },
      { id: "bob", email: "bob@example.com" },
      { id: "carol", email: "carol@example.com" },
      { id: "dave", email: "dave@example.com", admin: true, principals: { pg: "dokafor" } },
      { id: "erin", email: "erin@example.com" },
    ],
    groups: { sre: ["alice", "erin"], dba: ["bob", "carol"], admins: ["dave"] },
    connectors: { pg: { type: "postgres", config: { url: { env: "PG_URL" } } }, demo: { type: "noop" } },
    resources: {
      "prod-db": { connector: "pg", target: { role: "ro" }, principal: "{{ email | localpart }}", risk: "high" },
      "prod-admin": { connector: "pg", target: { role: "rw" }, risk: "high" },
      "staging-db": { connector: "pg", risk: "medium" },
      "demo-admin": { connector: "demo", risk: "low" },
    },
    policies: [
      {
        id: "prod-read",
        resources: ["prod-db"],
        requesters: { groups: ["sre"] },
        duration: { default: "1h", max: "4h" },
        ticket: { required: true, pattern: "^OPS-[0-9]+$", hint: "Use the OPS ticket, e.g. OPS-12." },
        approvers: { groups: ["dba"] },
        requiredApprovals: 2,
      },
      {
        id: "prod-admin",
        resources: ["prod-admin"],
        requesters: { groups: ["dba"] },
        duration: { default: "30m", max: "1h" },
        approvers: { groups: ["dba"] },
        requiredApprovals: 2,
      },
      {
        id: "staging",
        resources: ["staging-db"],
        requesters: { groups: ["sre", "dba"] },
        duration: { default: "1h", max: "8h" },
        reason: { required: false },
        steps: [
          { name: "peer", approvers: { groups: ["sre", "dba"] }, required: 1 },
          { approvers: { groups: ["admins"] } },
        ],
      },
      {
        id: "demo",
        resources: ["demo-admin"],
        requesters: { everyone: true },
        duration: { default: "30m", max: "2h" },
        reason: { required: false },
        approvers: { users: ["dave"] },
        selfApproval: true,
      },
    ],
  };
}

export function parseFile(input: PolicyFileInput): PolicyFile {
  return PolicyFileSchema.parse(input);
}

export function makeBook(tweak: (input: PolicyFileInput) => void = () => {}): PolicyBook {
  const input = baseInput();
  tweak(input);
  return new PolicyBook(parseFile(input));
}

/** Tuesday 4 March 2025, 10:00 UTC. */
export const TUESDAY_10_UTC = new Date("2025-03-04T10:00:00Z");

/** Runs `run` and returns the AppError it throws (anything else fails the test). */
export function thrown(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected an AppError, but nothing was thrown");
}
