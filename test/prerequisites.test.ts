import { describe, it } from "vitest";
import { TEST_PREREQUISITE_NAMES, TEST_PREREQUISITES } from "../scripts/prerequisite-checks.js";
import { missingPrerequisite, REQUIRE_ALL } from "./helpers/prerequisites.js";

/**
 * One test per optional prerequisite. Under SESAME_TEST_REQUIRE_ALL=1 a missing one is a failing
 * test named after it, with its install command: the groups that need it fail while collecting,
 * which reporters count as a failed file, not as a failed test. Otherwise it is skipped, like the
 * groups that need it.
 */
describe("prerequisites beyond PostgreSQL and Redis", () => {
  for (const prerequisite of TEST_PREREQUISITE_NAMES) {
    const { title, neededFor } = TEST_PREREQUISITES[prerequisite];
    const missing = missingPrerequisite(prerequisite);
    if (missing === undefined) {
      it(`${title} is present, for ${neededFor}`, () => undefined);
    } else {
      it.skipIf(!REQUIRE_ALL)(`${title} is missing, needed for ${neededFor}: ${missing}`, () => {
        throw new Error(missing);
      });
    }
  }
});
