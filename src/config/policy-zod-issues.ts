import { z } from "zod";
import type { ProblemPath } from "../domain/policy/policy-consistency.js";
import { PolicyFileSchema } from "../domain/policy/policy-schema.js";

/**
 * Turns zod issues about the policy file into sentences an operator can act on: "is required",
 * "unknown key (did you mean approvers?)", "expected a list, got text". Zod's defaults are
 * written for programmers and know nothing about YAML.
 */

export interface PathProblem {
  path: ProblemPath;
  message: string;
  /** Point at the key itself (unknown or badly named keys) rather than its value. */
  at: "key" | "value";
}

const EXPECTED: Record<string, string> = {
  object: "a mapping (key: value)",
  record: "a mapping (key: value)",
  array: "a list",
  string: "text",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
};

export function describeIssue(issue: z.core.$ZodIssue): PathProblem[] {
  const path = issue.path.map((segment) => (typeof segment === "number" ? segment : String(segment)));
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({ path: [...path, key], message: unknownKeyMessage(key, path), at: "key" }));
    case "invalid_key":
      return [{ path, message: `invalid name: ${issue.issues.map((inner) => inner.message).join("; ")}`, at: "key" }];
    case "invalid_type": {
      if (issue.input === undefined)
        return [{ path, message: `is required (${EXPECTED[issue.expected] ?? issue.expected})`, at: "value" }];
      return [
        {
          path,
          message: `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}`,
          at: "value",
        },
      ];
    }
    case "invalid_value":
      return [
        { path, message: `must be ${issue.values.map((value) => JSON.stringify(value)).join(" or ")}`, at: "value" },
      ];
    case "too_small":
      return [
        {
          path,
          message:
            issue.origin === "array" ? `needs at least ${issue.minimum} item(s)` : `must be at least ${issue.minimum}`,
          at: "value",
        },
      ];
    case "invalid_format":
      return [
        { path, message: issue.format === "email" ? "is not a valid email address" : issue.message, at: "value" },
      ];
    default:
      return [{ path, message: issue.message, at: "value" }];
  }
}

function describeValue(value: unknown): string {
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the text ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

function unknownKeyMessage(key: string, objectPath: ProblemPath): string {
  const known = knownKeysAt(PolicyFileSchema, objectPath);
  const closest = known
    .map((candidate) => ({ candidate, distance: editDistance(key.toLowerCase(), candidate.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance)[0];
  if (closest && closest.distance <= Math.min(3, Math.max(1, Math.floor(key.length / 3)))) {
    return `unknown key (did you mean "${closest.candidate}"?)`;
  }
  return known.length > 0 ? `unknown key (allowed: ${known.join(", ")})` : "unknown key";
}

/** The keys the schema allows for the object at `path`, found by walking the schema itself. */
function knownKeysAt(schema: z.ZodType, path: ProblemPath): string[] {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (current instanceof z.ZodObject) current = (current.shape as Record<string, z.ZodType>)[String(segment)];
    else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
    else return [];
    if (current === undefined) return [];
    current = unwrap(current);
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault) current = current.unwrap() as z.ZodType;
  return current;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] ?? 0;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}
