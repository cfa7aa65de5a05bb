import { describe, expect, it } from "vitest";
import { eventSecretProblems } from "../../src/domain/policy/event-access.js";
import type { EventAccessRule } from "../../src/domain/policy/policy-schema.js";

/** Event sources' secrets are checked at start: too short stops it, missing is a warning. */

const rule = (source: string) => ({ source }) as EventAccessRule;

describe("event source secrets at start", () => {
  it("refuses a secret shorter than 32 characters and names its variable", () => {
    const problems = eventSecretProblems([rule("ci-runner")], { SESAME_EVENT_SECRET_CI_RUNNER: "short" });
    expect(problems.missing).toEqual([]);
    expect(problems.fatal).toEqual([expect.stringContaining("SESAME_EVENT_SECRET_CI_RUNNER must be at least 32")]);
    expect(problems.fatal.join()).not.toContain("short");
  });

  it("warns once per source without a secret, and accepts a long one", () => {
    const problems = eventSecretProblems([rule("monitoring"), rule("monitoring"), rule("ci")], {
      SESAME_EVENT_SECRET_CI: "x".repeat(32),
    });
    expect(problems).toEqual({
      fatal: [],
      missing: ["SESAME_EVENT_SECRET_MONITORING is not set: events from source monitoring are refused until it is"],
    });
  });
});
