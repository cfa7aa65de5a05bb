import type { TestProject } from "vitest/node";
import {
  TEST_PREREQUISITE_NAMES,
  TEST_PREREQUISITES,
  type TestPrerequisite,
} from "../../scripts/prerequisite-checks.js";

/**
 * vitest globalSetup: detects the optional prerequisites once for the whole run (not once per
 * test file, each of which runs in its own process) and hands the result to the test files, where
 * describeWith() (prerequisites.ts) reads it. At the end of the run, prints which groups were
 * skipped and why: the default reporter only counts skipped tests, it does not name them. The
 * summary goes to stderr, so that a reporter writing JSON to stdout stays parseable.
 */

declare module "vitest" {
  export interface ProvidedContext {
    /** Per optional prerequisite: why it is missing and how to install it, or null when present. */
    missingPrerequisites: Record<TestPrerequisite, string | null>;
  }
  export interface TaskMeta {
    /** On a group describeWith() skipped: what it lacks, and its name without the explanation. */
    skippedFor?: { prerequisite: TestPrerequisite; group: string };
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const found = await Promise.all(
    TEST_PREREQUISITE_NAMES.map(async (name) => {
      const problem = await TEST_PREREQUISITES[name].problem();
      return [name, problem === undefined ? null : `${problem}; install: ${TEST_PREREQUISITES[name].install}`] as const;
    }),
  );
  const missing = Object.fromEntries(found) as Record<TestPrerequisite, string | null>;
  project.provide("missingPrerequisites", missing);
  return () => printSkippedGroups(project, missing);
}

function printSkippedGroups(project: TestProject, missing: Record<TestPrerequisite, string | null>): void {
  const skipped = new Map<TestPrerequisite, string[]>();
  for (const module of project.vitest.state.getTestModules()) {
    for (const suite of module.children.allSuites()) {
      const why = suite.meta().skippedFor;
      if (why === undefined || suite.state() !== "skipped") continue;
      skipped.set(why.prerequisite, [...(skipped.get(why.prerequisite) ?? []), why.group]);
    }
  }
  if (skipped.size === 0) return;
  const count = [...skipped.values()].reduce((sum, groups) => sum + groups.length, 0);
  console.error(
    `\nSkipped ${count} test group${count === 1 ? "" : "s"} for missing prerequisites (npm run doctor checks them all; SESAME_TEST_REQUIRE_ALL=1 fails instead of skipping):`,
  );
  for (const [prerequisite, groups] of skipped) {
    console.error(`  ${missing[prerequisite]} — skipped: ${groups.join(" | ")}`);
  }
}
