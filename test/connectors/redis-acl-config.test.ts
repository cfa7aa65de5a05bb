import { describe, expect, it } from "vitest";
import { connectionUser, principalProblem } from "../../src/connectors/redis-acl/redis-acl-config.js";
import { redisAclConnectorDefinition as definition } from "../../src/connectors/redis-acl/redis-acl-connector.js";

/** The redis-acl config and target schemas: what a policy file may say. No Redis needed. */

const rulesProblem = (rules: unknown[]): string | undefined => {
  const result = definition.targetSchema.safeParse({ mode: "temporary-user", rules });
  return result.success ? undefined : result.error.issues.map((issue) => issue.message).join("; ");
};

describe("redis-acl target rules", () => {
  it.each([
    "+@read",
    "-@dangerous",
    "+get",
    "-flushall",
    "+config|get",
    "+json.get",
    "~cache:*",
    "%R~reports:[0-9]*",
    "%W~tmp:{a,b}?",
    "%RW~x",
    "&news.*",
    "resetkeys",
    "resetchannels",
    "allkeys",
    "allchannels",
    "allcommands",
    "nocommands",
  ])("accepts %s", (rule) => {
    expect(rulesProblem([rule])).toBeUndefined();
  });

  it.each([
    "on",
    "off",
    "reset",
    "nopass",
    "resetpass",
    "clearselectors",
    "skip-sanitize-payload",
    "(~x +@all)",
    "~a b",
    '~a"',
    "~a\\b",
    "~(x)",
    "~",
    "&",
    "+@",
    "+@read +@write",
    "",
    "%X~x",
    "+get|",
    "+@READ ",
  ])("refuses %j", (rule) => {
    expect(rulesProblem([rule])).toMatch(/not an allowed ACL rule|pattern in/);
  });

  it.each([">hunter2", "<hunter2", "#f52fbd32b2b3b86ff88ef6c490628285f482af15ddcb29541f94bcf526a3f6c7", "!f52fbd32"])(
    "refuses the password rule %j without repeating it",
    (rule) => {
      const problem = rulesProblem([rule]);
      expect(problem).toMatch(/password rules .* are not allowed/);
      expect(problem).not.toContain(rule.slice(1, 5));
    },
  );

  it("needs a mode, at least one rule, and nothing else", () => {
    expect(definition.targetSchema.safeParse({}).success).toBe(false);
    expect(rulesProblem([])).toMatch(/at least one rule/);
    expect(definition.targetSchema.safeParse({ mode: "enable-user", rules: ["+@read"] }).success).toBe(false);
    expect(definition.targetSchema.parse({ mode: "enable-user" })).toEqual({ mode: "enable-user" });
  });
});

describe("redis-acl config", () => {
  it("takes a redis:// or rediss:// url as a secret field, with defaults", () => {
    expect(definition.secretFields).toEqual(["url"]);
    expect(definition.configSchema.parse({ url: "rediss://sesame:pw@redis.internal:6380" })).toEqual({
      url: "rediss://sesame:pw@redis.internal:6380",
      persist: "auto",
      clearedRunIds: [],
      connectTimeoutSeconds: 10,
    });
    expect(definition.configSchema.safeParse({ url: "http://redis:6379" }).success).toBe(false);
    expect(definition.configSchema.safeParse({ url: "redis://sesame:100%@redis:6379" }).success).toBe(false);
    expect(definition.configSchema.safeParse({ url: "redis://redis:6379", extra: 1 }).success).toBe(false);
  });

  it("persists with auto unless told otherwise, and takes cleared run_ids only as 40 hex digits", () => {
    const parse = (extra: Record<string, unknown>) =>
      definition.configSchema.safeParse({ url: "redis://sesame:pw@redis:6379", ...extra });
    for (const persist of ["auto", "acl-file", "config-rewrite", "none"]) expect(parse({ persist }).success).toBe(true);
    expect(parse({ persist: "always" }).success).toBe(false);
    // The former boolean is gone: persist: auto covers servers with and without an aclfile.
    expect(parse({ aclSave: true }).success).toBe(false);
    expect(parse({ clearedRunIds: ["0123456789abcdef0123456789abcdef01234567"] }).success).toBe(true);
    expect(parse({ clearedRunIds: ["not-a-run-id"] }).success).toBe(false);
  });

  it("knows Sesame's own ACL user from the url", () => {
    expect(connectionUser("redis://sesame%40ops:pw@redis:6379")).toBe("sesame@ops");
    expect(connectionUser("redis://:pw@redis:6379")).toBe("default");
  });

  it("accepts principals that are safe ACL user names only", () => {
    expect(principalProblem("jit-alice@example.com", "sesame")).toBeUndefined();
    for (const bad of ["", "alice smith", "-alice", 'al"ice', "a".repeat(129), "alice\n"])
      expect(principalProblem(bad, "sesame")).toMatch(/must be/);
    expect(principalProblem("default", "sesame")).toMatch(/default user/);
    expect(principalProblem("sesame", "sesame")).toMatch(/Sesame's own/);
  });
});
