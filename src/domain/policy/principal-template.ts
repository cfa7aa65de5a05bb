import { AppError } from "../errors.js";
import type { Person } from "./policy-schema.js";

/**
 * The tiny template language of `resource.principal`, e.g. "{{ email | localpart }}". Deliberately
 * closed: a fixed set of variables and filters, so a typo is a config error, not a wrong account.
 */

type TemplatePerson = Pick<Person, "id" | "email" | "name">;

const VARIABLES: Record<string, (person: TemplatePerson) => string | undefined> = {
  id: (person) => person.id,
  email: (person) => person.email,
  name: (person) => person.name,
};

const FILTERS: Record<string, (value: string) => string> = {
  localpart: (value) => (value.includes("@") ? value.slice(0, value.lastIndexOf("@")) : value),
  domain: (value) => (value.includes("@") ? value.slice(value.lastIndexOf("@") + 1) : ""),
  lower: (value) => value.toLowerCase(),
  upper: (value) => value.toUpperCase(),
};

type Segment = { text: string } | { variable: string; filters: string[] };

const EXPRESSION = /\{\{(.*?)\}\}/g;

function parseTemplate(template: string): { segments: Segment[]; problems: string[] } {
  const segments: Segment[] = [];
  const problems: string[] = [];
  let cursor = 0;
  for (const match of template.matchAll(EXPRESSION)) {
    segments.push({ text: template.slice(cursor, match.index) });
    cursor = match.index + match[0].length;
    const [variable = "", ...filters] = (match[1] ?? "").split("|").map((part) => part.trim());
    if (!(variable in VARIABLES)) {
      problems.push(`unknown variable "${variable}" in ${match[0]} (use ${Object.keys(VARIABLES).join(", ")})`);
    }
    for (const filter of filters.filter((name) => !(name in FILTERS))) {
      problems.push(`unknown filter "${filter}" in ${match[0]} (use ${Object.keys(FILTERS).join(", ")})`);
    }
    segments.push({ variable, filters });
  }
  const rest = template.slice(cursor);
  if (rest.includes("{{")) problems.push(`"{{" is never closed with "}}"`);
  segments.push({ text: rest });
  return { segments, problems };
}

/** Problems with a principal template (empty when it is usable); the policy loader reports them. */
export function principalTemplateProblems(template: string): string[] {
  const { segments, problems } = parseTemplate(template);
  if (problems.length === 0 && segments.every((segment) => "text" in segment && segment.text.trim() === "")) {
    problems.push("renders an empty principal; use e.g. {{ id }} or {{ email | localpart }}");
  }
  return problems;
}

/** Renders the template for a person. Throws when the template is invalid or renders nothing. */
export function renderPrincipalTemplate(template: string, person: TemplatePerson): string {
  const { segments, problems } = parseTemplate(template);
  const fail = (problem: string): AppError =>
    new AppError(
      "config_invalid",
      `Sesame cannot work out your account for this resource (${problem}); ask an admin.`,
      {
        internal: `principal template "${template}" for ${person.id}: ${problem}`,
        details: { template, personId: person.id },
      },
    );
  if (problems[0] !== undefined) throw fail(problems[0]);
  let rendered = "";
  for (const segment of segments) {
    if ("text" in segment) {
      rendered += segment.text;
      continue;
    }
    const value = VARIABLES[segment.variable]?.(person);
    if (value === undefined) throw fail(`${person.id} has no ${segment.variable} in the policy file`);
    rendered += segment.filters.reduce((current, filter) => FILTERS[filter]?.(current) ?? current, value);
  }
  if (rendered.trim() === "") throw fail("the template renders an empty principal");
  return rendered;
}
