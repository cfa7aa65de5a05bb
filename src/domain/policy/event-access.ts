import { formatDuration, parseDuration } from "../duration.js";
import { AppError } from "../errors.js";
import type { ProblemPath } from "./policy-consistency.js";
import type { EventAccessRule } from "./policy-schema.js";

/**
 * `eventAccess` rules (schema in policy-schema.ts): which signed event source may open which
 * resources for whom, and for how long at most. An event a rule covers is approved by the rule
 * (its `reason` is recorded); any other event changes nothing.
 */

/** The environment variable holding a source's HMAC secret. */
export function eventSecretVariable(source: string): string {
  return `SESAME_EVENT_SECRET_${source.toUpperCase().replaceAll("-", "_")}`;
}

/** The shortest secret Sesame accepts for a signed event source: it signs every event. */
export const MIN_EVENT_SECRET_LENGTH = 32;

/**
 * What is wrong with the secrets of the policy's event sources, checked at start: a secret too
 * short to trust stops the start (refusing every event later would be silent), a missing one is
 * worth a warning (its events are refused until it is set).
 */
export function eventSecretProblems(
  rules: readonly EventAccessRule[],
  env: Record<string, string | undefined>,
): { fatal: string[]; missing: string[] } {
  const fatal: string[] = [];
  const missing: string[] = [];
  for (const source of new Set(rules.map((rule) => rule.source))) {
    const variable = eventSecretVariable(source);
    const secret = env[variable];
    if (secret === undefined || secret === "")
      missing.push(`${variable} is not set: events from source ${source} are refused until it is`);
    else if (secret.length < MIN_EVENT_SECRET_LENGTH)
      fatal.push(
        `${variable} must be at least ${MIN_EVENT_SECRET_LENGTH} random characters (openssl rand -hex 32): it signs every event from ${source}`,
      );
  }
  return { fatal, missing };
}

export interface EventApproval {
  reason: string;
  maxSeconds: number;
}

/** The rule that lets `source` open `resourceId` for `subjectId`; throws the refusal when none does. */
export function eventApprovalFor(
  rules: EventAccessRule[],
  groupsOf: (personId: string) => string[],
  input: { source: string; subjectId: string; resourceId: string; durationSeconds?: number },
): EventApproval {
  const ofSource = rules.filter((rule) => rule.source === input.source);
  if (ofSource.length === 0)
    throw new AppError("forbidden", `No eventAccess rule names source ${input.source}.`, {
      details: { source: input.source },
    });
  const groups = new Set(groupsOf(input.subjectId));
  const rule = ofSource.find(
    (candidate) =>
      candidate.resources.includes(input.resourceId) &&
      (candidate.subjects.everyone ||
        candidate.subjects.users.includes(input.subjectId) ||
        candidate.subjects.groups.some((group) => groups.has(group))),
  );
  if (!rule)
    throw new AppError(
      "forbidden",
      `No eventAccess rule lets source ${input.source} open ${input.resourceId} for ${input.subjectId}.`,
      { details: { source: input.source, resourceId: input.resourceId, subjectId: input.subjectId } },
    );
  const maxSeconds = parseDuration(rule.maxDuration);
  if (input.durationSeconds !== undefined && input.durationSeconds > maxSeconds)
    throw new AppError(
      "policy_violation",
      `Events from ${input.source} open ${input.resourceId} for at most ${formatDuration(maxSeconds)}.`,
      { details: { field: "ttl", maxSeconds } },
    );
  return { reason: rule.reason ?? `signed event from ${input.source}`, maxSeconds };
}

/** Names in `eventAccess` that the file does not define. */
export function eventAccessProblems(
  rules: EventAccessRule[],
  defined: { resources: Set<string>; people: Set<string>; groups: Set<string> },
): Array<{ path: ProblemPath; message: string }> {
  const problems: Array<{ path: ProblemPath; message: string }> = [];
  rules.forEach((rule, index) => {
    rule.resources.forEach((resource, i) => {
      if (!defined.resources.has(resource))
        problems.push({ path: ["eventAccess", index, "resources", i], message: `unknown resource "${resource}"` });
    });
    rule.subjects.users.forEach((user, i) => {
      if (!defined.people.has(user))
        problems.push({ path: ["eventAccess", index, "subjects", "users", i], message: `unknown person "${user}"` });
    });
    rule.subjects.groups.forEach((group, i) => {
      if (!defined.groups.has(group))
        problems.push({ path: ["eventAccess", index, "subjects", "groups", i], message: `unknown group "${group}"` });
    });
  });
  return problems;
}
