import { describe, expect, it } from "vitest";
import { PolicyBook } from "../../src/domain/policy/policy-book.js";
import { baseInput, makeBook, parseFile } from "./fixture.js";

describe("PolicyBook lookups", () => {
  const book = makeBook();

  it("finds people by id and by email, ignoring case", () => {
    expect(book.person("bob")?.email).toBe("bob@example.com");
    expect(book.person("zed")).toBeUndefined();
    expect(book.personByEmail("alice.martin@example.COM")?.id).toBe("alice");
    expect(book.personByEmail("nobody@example.com")).toBeUndefined();
    expect(book.people().map((person) => person.id)).toEqual(["alice", "bob", "carol", "dave", "erin"]);
  });

  it("knows group members, a person's groups and admins", () => {
    expect(book.membersOf("sre")).toEqual(["alice", "erin"]);
    expect(book.membersOf("nope")).toEqual([]);
    expect(book.groupsOf("bob")).toEqual(["dba"]);
    expect(book.isAdmin("dave")).toBe(true);
    expect(book.isAdmin("alice")).toBe(false);
    expect(book.isAdmin("zed")).toBe(false);
  });

  it("lists what a person may request, with the policy that allows it", () => {
    const requestable = book.requestableResources("bob").map(({ resourceId, policy }) => [resourceId, policy.id]);
    expect(requestable).toEqual([
      ["prod-admin", "prod-admin"],
      ["staging-db", "staging"],
      ["demo-admin", "demo"],
    ]);
    expect(book.resource("prod-db")?.connector).toBe("pg");
    expect(book.requestableResources("zed")).toEqual([]);
  });

  it("matches the first policy in file order that lets the person request the resource", () => {
    const input = baseInput();
    input.policies.unshift({
      id: "sre-staging",
      resources: ["staging-db"],
      requesters: { users: ["erin"] },
      duration: { default: "2h", max: "2h" },
      approvers: { users: ["dave"] },
    });
    const ordered = new PolicyBook(parseFile(input));
    expect(ordered.matchPolicy("erin", "staging-db")?.id).toBe("sre-staging");
    expect(ordered.matchPolicy("alice", "staging-db")?.id).toBe("staging");
    expect(ordered.matchPolicy("alice", "prod-admin")).toBeUndefined();
    expect(ordered.matchPolicy("zed", "demo-admin")).toBeUndefined();
  });

  it("says why a request matched: listed user, group, or everyone", () => {
    const input = baseInput();
    input.policies[0]!.requesters = { users: ["alice"], groups: ["sre"] };
    const listed = new PolicyBook(parseFile(input));
    expect(listed.requesterReason(listed.policy("prod-read")!, "alice")).toBe("you are listed as a requester");
    expect(listed.requesterReason(listed.policy("prod-read")!, "erin")).toBe("you are in group sre");
    expect(listed.requesterReason(listed.policy("demo")!, "bob")).toBe("everyone may request it");
    expect(listed.requesterReason(listed.policy("prod-read")!, "bob")).toBeUndefined();
  });

  it("refuses to build from a file with dangling names", () => {
    const input = baseInput();
    input.groups = { ...input.groups, sre: ["alice", "ghost"] };
    expect(() => new PolicyBook(parseFile(input))).toThrow(/groups\.sre\.1: unknown person "ghost"/);
  });

  it("does not mistake Object.prototype members for groups or resources", () => {
    expect(book.membersOf("constructor")).toEqual([]);
    expect(book.resource("constructor")).toBeUndefined();
    expect(book.matchPolicy("alice", "constructor")).toBeUndefined();
  });
});
