import { describe, expect, it } from "vitest";
import { principalTemplateProblems, renderPrincipalTemplate } from "../../src/domain/policy/principal-template.js";
import { makeBook, thrown } from "./fixture.js";

const alice = { id: "alice", email: "Alice.Martin@Example.com", name: "Alice Martin" };

describe("principal templates", () => {
  it.each([
    ["{{ id }}", "alice"],
    ["{{ email }}", "Alice.Martin@Example.com"],
    ["{{ email | localpart }}", "Alice.Martin"],
    ["{{email|domain}}", "Example.com"],
    ["{{ email | localpart | lower }}", "alice.martin"],
    ["{{ name | upper }}", "ALICE MARTIN"],
    ["sesame_{{ id }}@{{ email | domain | lower }}", "sesame_alice@example.com"],
  ])("%s renders %s", (template, expected) => {
    expect(principalTemplateProblems(template)).toEqual([]);
    expect(renderPrincipalTemplate(template, alice)).toBe(expected);
  });

  it("names unknown variables and filters", () => {
    expect(principalTemplateProblems("{{ username }}")).toEqual([
      'unknown variable "username" in {{ username }} (use id, email, name)',
    ]);
    expect(principalTemplateProblems("{{ email | local }}")).toEqual([
      'unknown filter "local" in {{ email | local }} (use localpart, domain, lower, upper)',
    ]);
    expect(principalTemplateProblems("{{ id ")).toEqual(['"{{" is never closed with "}}"']);
    expect(principalTemplateProblems("  ")).toEqual([
      "renders an empty principal; use e.g. {{ id }} or {{ email | localpart }}",
    ]);
  });

  it("refuses to render an invalid template or a missing name", () => {
    expect(thrown(() => renderPrincipalTemplate("{{ nick }}", alice)).code).toBe("config_invalid");
    const error = thrown(() => renderPrincipalTemplate("{{ name }}", { id: "bob", email: "bob@example.com" }));
    expect(error.message).toContain("bob has no name in the policy file");
    expect(error.userMessage).toMatch(/ask an admin/);
  });

  it("principalFor prefers the person's explicit principal for the resource's connector", () => {
    const book = makeBook();
    expect(book.principalFor("alice", "prod-db")).toBe("Alice.Martin");
    expect(book.principalFor("dave", "prod-db")).toBe("dokafor");
    expect(book.principalFor("dave", "demo-admin")).toBe("dave");
    expect(thrown(() => book.principalFor("zed", "prod-db")).code).toBe("not_found");
    expect(thrown(() => book.principalFor("alice", "nope")).code).toBe("not_found");
  });
});
