import type { PolicyFile } from "./policy-schema.js";

/**
 * Rules the `kubernetes` section must follow beyond its schema: every guardrail names resources
 * that exist, guardrail ids are unique (they name webhook paths), and no two people share a
 * Kubernetes username or have one that is someone else's email (the person would be ambiguous).
 */
export function checkGuardrailConsistency(
  file: PolicyFile,
  report: (path: Array<string | number>, message: string) => void,
): void {
  const seen = new Map<string, number>();
  file.kubernetes.guardrails.forEach((guardrail, index) => {
    const first = seen.get(guardrail.id);
    if (first !== undefined)
      report(
        ["kubernetes", "guardrails", index, "id"],
        `duplicate guardrail id "${guardrail.id}" (also guardrails[${first}])`,
      );
    else seen.set(guardrail.id, index);
    guardrail.requires.forEach((resource, at) => {
      if (!Object.hasOwn(file.resources, resource)) {
        report(
          ["kubernetes", "guardrails", index, "requires", at],
          `unknown resource "${resource}" (defined: ${Object.keys(file.resources).join(", ") || "none"})`,
        );
      }
    });
  });
  const usernames = new Map<string, string>();
  for (const person of file.people) usernames.set(person.email.toLowerCase(), person.id);
  file.people.forEach((person, index) => {
    if (person.kubernetes === undefined) return;
    const holder = usernames.get(person.kubernetes.toLowerCase());
    if (holder !== undefined && holder !== person.id)
      report(["people", index, "kubernetes"], `Kubernetes username "${person.kubernetes}" is also ${holder}'s`);
    else usernames.set(person.kubernetes.toLowerCase(), person.id);
  });
}
