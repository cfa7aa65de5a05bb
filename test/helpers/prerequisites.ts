import { describe, inject } from "vitest";
import type { TestPrerequisite } from "../../scripts/prerequisite-checks.js";

/**
 * Test groups that need more than PostgreSQL and Redis (MariaDB, MIT Kerberos, Chromium, openssl)
 * go through describeWith(): on a machine without the prerequisite they are skipped under a name
 * that says what is missing and how to install it, so `npm test` passes with only PostgreSQL and
 * Redis. With SESAME_TEST_REQUIRE_ALL=1 (CI), a missing prerequisite fails instead. Detection
 * happens once per run, in prerequisites-setup.ts.
 */

export const REQUIRE_ALL = process.env.SESAME_TEST_REQUIRE_ALL === "1";

/** Why `prerequisite` is missing, with its install command; undefined when it is present. */
export function missingPrerequisite(prerequisite: TestPrerequisite): string | undefined {
  return inject("missingPrerequisites")[prerequisite] ?? undefined;
}

/**
 * describe(), when `prerequisite` is present (or undefined: the group needs nothing beyond
 * PostgreSQL and Redis, for helpers like runConnectorConformance that serve both kinds).
 */
export function describeWith(prerequisite: TestPrerequisite | undefined, name: string, body: () => void): void {
  const missing = prerequisite === undefined ? undefined : missingPrerequisite(prerequisite);
  if (prerequisite === undefined || missing === undefined) {
    describe(name, body);
  } else if (REQUIRE_ALL) {
    // Thrown while collecting, so the file fails with this message. A failing test inside the group
    // would not show it: the file's own beforeAll, which needs the prerequisite, fails first.
    describe(name, () => {
      throw new Error(`"${name}" cannot run, and SESAME_TEST_REQUIRE_ALL=1 forbids skipping it: ${missing}`);
    });
  } else {
    describe.skip(`${name} — skipped: ${missing}`, { meta: { skippedFor: { prerequisite, group: name } } }, body);
  }
}
