import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPolicyFile, type PolicyLoadOptions, parsePolicyText } from "../../src/config/policy-loader.js";
import { AppError } from "../../src/domain/errors.js";

// Line numbers matter below: each test edits one line of this file and expects it named.
const VALID = `version: 1
people:
  - id: alice
    email: alice@example.com
  - id: bob
    email: bob@example.com
groups:
  dba: [bob]
connectors:
  pg:
    type: postgres
    config: { url: { env: PG_URL } }
resources:
  prod-db:
    connector: pg
    target: { role: ro }
    principal: "{{ email | localpart }}"
policies:
  - id: prod-read
    resources: [prod-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 4h }
    approvers: { groups: [dba] }
`;

/** The problem lines of the config_invalid error thrown for `text` (without the heading). */
function problems(text: string, options?: PolicyLoadOptions): string[] {
  try {
    parsePolicyText(text, "policy.yaml", options);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("config_invalid");
    return (error as AppError).message.split("\n").slice(1);
  }
  throw new Error("expected the policy to be rejected");
}

const edit = (from: string, to: string): string => {
  expect(VALID).toContain(from);
  return VALID.replace(from, to);
};

describe("parsePolicyText", () => {
  it("accepts a valid file and applies defaults", () => {
    const file = parsePolicyText(VALID, "policy.yaml");
    expect(file.resources["prod-db"]?.risk).toBe("high");
    expect(file.policies[0]?.reason).toEqual({ required: true });
  });

  it("names a misspelled key at its line and suggests the right one", () => {
    expect(problems(edit("    approvers: { groups: [dba] }", "    approver: { groups: [dba] }"))).toEqual([
      'policy.yaml:23:5 policies[0].approver: unknown key (did you mean "approvers"?)',
    ]);
  });

  it("lists the allowed keys when nothing is close", () => {
    expect(
      problems(edit("    email: bob@example.com", "    email: bob@example.com\n    favouriteColour: blue")),
    ).toEqual([
      "policy.yaml:7:5 people[1].favouriteColour: unknown key (allowed: id, email, name, admin, slack, teams, principals, kubernetes, service)",
    ]);
  });

  it("names a bad duration at its column", () => {
    expect(problems(edit("default: 1h, max: 4h", "default: 1h, max: 4 hours"))).toEqual([
      "policy.yaml:22:35 policies[0].duration.max: must be a duration like 30m, 1h, 1h30m or 2d",
    ]);
  });

  it("names an unknown group reference", () => {
    expect(problems(edit("approvers: { groups: [dba] }", "approvers: { groups: [dbas] }"))).toEqual([
      'policy.yaml:23:27 policies[0].approvers.groups[0]: unknown group "dbas" (defined: dba)',
    ]);
  });

  it("reports a YAML syntax error with its position", () => {
    const lines = problems(edit("    target: { role: ro }", "    target: { role: ro"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^policy\.yaml:\d+:\d+ \(yaml syntax\): .+/);
  });

  it("reports duplicate keys as YAML errors", () => {
    expect(problems(edit("  dba: [bob]", "  dba: [bob]\n  dba: [alice]"))[0]).toMatch(
      /^policy\.yaml:9:3 \(yaml syntax\): Map keys must be unique/,
    );
  });

  it("lists every problem, one per line, in file order", () => {
    const text = edit("    email: bob@example.com", "    email: not-an-email")
      .replace("connector: pg", "connector: pgg")
      .replace("version: 1", "version: 2");
    expect(problems(text)).toEqual([
      "policy.yaml:1:10 version: must be 1",
      "policy.yaml:6:12 people[1].email: is not a valid email address",
    ]);
    // Cross references are checked once the schema passes, so they come in a second round.
    expect(problems(text.replace("version: 2", "version: 1").replace("not-an-email", "bob@example.com"))).toEqual([
      'policy.yaml:15:16 resources.prod-db.connector: unknown connector "pgg" (defined: pg)',
    ]);
  });

  it("says a required key is missing, pointing at the object that lacks it", () => {
    expect(problems(edit("    duration: { default: 1h, max: 4h }\n", ""))).toEqual([
      "policy.yaml:19:5 policies[0].duration: is required (a mapping (key: value))",
    ]);
  });

  it("names badly formed group names at the key", () => {
    expect(problems(edit("  dba: [bob]", "  DBA Team: [bob]"))[0]).toBe(
      "policy.yaml:8:3 groups.\"DBA Team\": invalid name: use lowercase letters, digits, '.', '_' or '-' (e.g. prod-db-readonly)",
    );
  });

  it("checks duplicates, approver counts, patterns, time zones and templates", () => {
    const text = edit("  - id: bob\n    email: bob@example.com", "  - id: alice\n    email: ALICE@example.com")
      .replace("  dba: [bob]", "  dba: [alice]")
      .replace('principal: "{{ email | localpart }}"', 'principal: "{{ mail }}"')
      .replace(
        "    approvers: { groups: [dba] }",
        [
          "    approvers: { groups: [dba] }",
          "    requiredApprovals: 2",
          '    ticket: { pattern: "^OPS-[0-9+$" }',
          "    autoApprove:",
          "      - reason: office hours",
          '        withinTimeWindow: { start: "09:00", end: "17:00", timezone: Europe/Pariss }',
        ].join("\n"),
      );
    expect(problems(text)).toEqual([
      'policy.yaml:5:9 people[1].id: duplicate person id "alice" (also people[0])',
      'policy.yaml:6:12 people[1].email: duplicate email "alice@example.com" (also people[0])',
      'policy.yaml:17:16 resources.prod-db.principal: unknown variable "mail" in {{ mail }} (use id, email, name)',
      'policy.yaml:24:24 policies[0].requiredApprovals: step "approval" needs 2 approvals but only 1 person can approve',
      "policy.yaml:25:24 policies[0].ticket.pattern: is not a valid regular expression (Invalid regular expression: /^OPS-[0-9+$/: Unterminated character class)",
      'policy.yaml:28:69 policies[0].autoApprove[0].withinTimeWindow.timezone: "Europe/Pariss" is not an IANA time zone (e.g. Europe/Paris)',
    ]);
  });

  it("checks every other reference and rule", () => {
    const text = edit(
      "    email: alice@example.com",
      "    email: alice@example.com\n    principals: { mysql: alice_m }",
    )
      .replace("resources: [prod-db]", "resources: [prod-db, prod-dbx]")
      .replace("requesters: { users: [alice] }", "requesters: { users: [alice, zoe] }")
      .replace(
        "    approvers: { groups: [dba] }",
        [
          "    approvers: { groups: [dba] }",
          "    extension: { maxTotal: 2h }",
          "    autoApprove:",
          '      - { reason: never, requesterInGroup: ops, withinTimeWindow: { start: "09:00", end: "09:00" } }',
          "  - id: prod-read",
          "    resources: [prod-db]",
          "    requesters: { everyone: true }",
          "    duration: { default: 1h, max: 1h }",
          "    requiredApprovals: 1",
          "    steps: [{ approvers: { users: [bob] } }]",
        ].join("\n"),
      );
    expect(problems(text)).toEqual([
      'policy.yaml:5:26 people[0].principals.mysql: unknown connector "mysql" (defined: pg)',
      'policy.yaml:21:26 policies[0].resources[1]: unknown resource "prod-dbx" (defined: prod-db)',
      'policy.yaml:22:34 policies[0].requesters.users[1]: unknown person "zoe" (add them to people)',
      "policy.yaml:25:28 policies[0].extension.maxTotal: must not be shorter than duration.max (4h)",
      'policy.yaml:27:44 policies[0].autoApprove[0].requesterInGroup: unknown group "ops" (defined: dba)',
      "policy.yaml:27:90 policies[0].autoApprove[0].withinTimeWindow.end: must differ from start",
      'policy.yaml:28:9 policies[1].id: duplicate policy id "prod-read" (also policies[0])',
      "policy.yaml:32:24 policies[1].requiredApprovals: only applies to the approvers shorthand; give each step its own required",
    ]);
  });

  it("requires exactly one of steps or approvers", () => {
    const both = edit(
      "    approvers: { groups: [dba] }",
      "    approvers: { groups: [dba] }\n    steps:\n      - approvers: { users: [bob] }",
    );
    expect(problems(both)).toEqual(["policy.yaml:25:7 policies[0].steps: use either steps or approvers, not both"]);
    const neither = edit("    approvers: { groups: [dba] }\n", "");
    expect(problems(neither)).toEqual([
      "policy.yaml:19:5 policies[0]: policy prod-read names no approvers: add approvers or steps",
    ]);
  });

  it("validates connector configs and targets through the callbacks", () => {
    const options: PolicyLoadOptions = {
      validateConnector: (name, type, config) =>
        type === "postgres" && name === "pg" ? [`config: ${JSON.stringify(config)} is missing ssl`] : [],
      validateTarget: (type, target) =>
        type === "postgres" ? [`role ${(target as { role: string }).role} is not allowed`] : [],
    };
    expect(problems(VALID, options)).toEqual([
      'policy.yaml:11:5 connectors.pg: config: {"url":{"env":"PG_URL"}} is missing ssl',
      "policy.yaml:16:13 resources.prod-db.target: role ro is not allowed",
    ]);
  });

  it("reports an empty file at its start", () => {
    expect(problems("")).toEqual(["policy.yaml:1:1 (top level): expected a mapping (key: value), got an empty value"]);
  });
});

describe("loadPolicyFile", () => {
  it("reads and parses a file, naming it in problems", async () => {
    const directory = await mkdtemp(join(tmpdir(), "sesame-policy-"));
    const path = join(directory, "policy.yaml");
    await writeFile(path, VALID);
    expect((await loadPolicyFile(path)).policies[0]?.id).toBe("prod-read");
    await writeFile(path, VALID.replace("version: 1", "version: 3"));
    await expect(loadPolicyFile(path)).rejects.toThrow(`${path}:1:10 version: must be 1`);
  });

  it("says when the file does not exist", async () => {
    await expect(loadPolicyFile("/nonexistent/policy.yaml")).rejects.toMatchObject({
      code: "config_invalid",
      message: "Cannot read the policy file /nonexistent/policy.yaml: the file does not exist.",
    });
  });
});
