import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { expectNoSecret, runConnectorConformance } from "./conformance.js";
import {
  createRedisAclFixture,
  type RedisAclFixture,
  redisAclConnector,
  redisAclContext,
} from "./redis-acl-fixture.js";

/** The redis-acl connector switching an operator-defined ACL user on and off, against the real local Redis. */

let fixture: RedisAclFixture;
beforeAll(async () => {
  fixture = await createRedisAclFixture("rae");
});
afterAll(async () => {
  await fixture?.cleanup();
});

const ENABLE = { mode: "enable-user" };
const enableContext = (principal: string): GrantContext => redisAclContext(principal, ENABLE);

runConnectorConformance(
  "redis-acl (enable-user)",
  async () => ({
    connector: redisAclConnector({ url: fixture.sesameUrl }),
    makeContext: () => enableContext(fixture.user("alice")),
    hasAccess: (context) => fixture.canAuth(context.principal, fixture.alicePassword),
    removeOutOfBand: async (context) => {
      await fixture.admin("ACL", "SETUSER", context.principal, "off");
    },
    secrets: fixture.secrets,
    breakConnector: async () =>
      redisAclConnector({ url: fixture.urlFor(fixture.user("ghost"), fixture.sesamePassword) }, "redis-unknown-user"),
    makeFailingContext: () => enableContext(fixture.user("nobody")),
  }),
  { brokenConnector: true, failingContext: true },
);

describe("redis-acl connector, enable-user mode", () => {
  let connector: Connector;
  beforeAll(() => {
    connector = redisAclConnector({ url: fixture.sesameUrl });
  });

  it("refuses AUTH before the grant, allows it during (with the user's rules), refuses it after", async () => {
    const alice = fixture.user("alice");
    await fixture.admin("SET", fixture.key("greeting"), "hello");
    const context = enableContext(alice);
    expect(await fixture.canAuth(alice, fixture.alicePassword)).toBe(false);

    const receipt = await connector.grant(context);
    expect(receipt).toEqual({
      data: {
        mode: "enable-user",
        user: alice,
        wasEnabled: false,
        runId: expect.stringMatching(/^[0-9a-f]{40}$/),
        persisted: "none",
      },
    });
    const session = await fixture.openSession(alice, fixture.alicePassword);
    expect(await session.get(fixture.key("greeting"))).toBe("hello");
    await expect(session.set(fixture.key("greeting"), "changed")).rejects.toThrow(/NOPERM/);

    await connector.revoke({ ...context, receipt: receipt.data });
    expect(await fixture.canAuth(alice, fixture.alicePassword)).toBe(false);
    await expect(session.get(fixture.key("greeting"))).rejects.toThrow();
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
    session.disconnect();
  });

  it("closes the connections that switching the user off leaves open", async () => {
    const alice = fixture.user("alice");
    const context = enableContext(alice);
    const receipt = await connector.grant(context);
    const session = await fixture.openSession(alice, fixture.alicePassword);
    // Out of band: `off` alone stops new logins, but the open connection keeps working.
    await fixture.admin("ACL", "SETUSER", alice, "off");
    expect(await session.get(fixture.key("greeting"))).toBeDefined();
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(false);

    await connector.revoke({ ...context, receipt: receipt.data });
    await expect(session.get(fixture.key("greeting"))).rejects.toThrow();
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
    session.disconnect();
  });

  it("records a user that was already on, and still switches it off on revoke", async () => {
    const bob = await fixture.defineUser("bob", ["reset", "on", ">bob-password", "+@read"]);
    const context = enableContext(bob);
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({ wasEnabled: true });
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(await fixture.canAuth(bob, "bob-password")).toBe(false);
  });

  it("never creates a missing user, and refuses nopass, default and its own user", async () => {
    const missing = fixture.user("missing");
    await expect(connector.grant(enableContext(missing))).rejects.toMatchObject({
      code: "connector_failed",
      userMessage: expect.stringMatching(/ACL user ".*_missing" does not exist/),
    });
    expect(await fixture.admin("ACL", "GETUSER", missing)).toBeNull();
    await connector.revoke({ ...enableContext(missing), receipt: null });
    expect(await fixture.admin("ACL", "GETUSER", missing)).toBeNull();

    const open = await fixture.defineUser("open", ["reset", "off", "nopass", "+@read"]);
    await expect(connector.grant(enableContext(open))).rejects.toMatchObject({
      userMessage: expect.stringMatching(/has nopass/),
    });
    await expect(connector.grant(enableContext("default"))).rejects.toMatchObject({
      userMessage: expect.stringMatching(/default user/),
    });
    await expect(connector.revoke({ ...enableContext("default"), receipt: null })).rejects.toMatchObject({
      code: "connector_failed",
    });
    await expect(connector.grant(enableContext(fixture.user("sesame")))).rejects.toMatchObject({
      userMessage: expect.stringMatching(/Sesame's own ACL user/),
    });
    await expect(connector.grant(enableContext("alice smith"))).rejects.toMatchObject({
      userMessage: expect.stringMatching(/must be 1-128 characters/),
    });
    const defaultUser = (await fixture.admin("ACL", "GETUSER", "default")) as unknown[];
    expect(defaultUser[1]).toContain("on");
  });

  it("check() passes for the least-privilege user and names each missing privilege otherwise", async () => {
    expect(await connector.check({ targets: [ENABLE, { mode: "temporary-user", rules: ["+@read"] }] })).toEqual({
      ok: true,
      problems: [],
    });

    const weakPassword = "weak-p@ss-123";
    const weak = await fixture.defineUser("weak", ["reset", "on", `>${weakPassword}`, "+acl|getuser", "+acl|dryrun"]);
    const weakConnector = redisAclConnector({ url: fixture.urlFor(weak, weakPassword), persist: "auto" });
    const result = await weakConnector.check({
      targets: [ENABLE, { mode: "temporary-user", rules: ["+@read"] }, { mode: "bogus" }],
    });
    expect(result.ok).toBe(false);
    const text = result.problems.join("\n");
    for (const rule of ["+acl|setuser", "+client|list", "+client|kill", "+acl|deluser", "+info", "+acl|save"])
      expect(text).toContain(`ACL SETUSER ${weak} ${rule}`);
    // auto needs CONFIG REWRITE only where ACL SAVE finds no aclfile; check() asks that once it may run ACL SAVE.
    expect(text).not.toContain("+config|rewrite");
    expect(text).not.toContain("+acl|getuser");
    expect(text).toMatch(/target 3\.mode/);
    expectNoSecret(result.problems, [weakPassword]);

    const blind = await fixture.defineUser("blind", ["reset", "on", `>${weakPassword}`, "+acl|getuser"]);
    const blindResult = await redisAclConnector({ url: fixture.urlFor(blind, weakPassword) }).check();
    expect(blindResult.problems).toEqual([expect.stringMatching(/may not run ACL DRYRUN.*\+acl\|dryrun/)]);
  });

  it("reports an unreachable server, a wrong password and a missing privilege without the password", async () => {
    const password = "S3cret/p@ss:word";
    const nokill = await fixture.defineUser("nokill", [
      "reset",
      "on",
      `>${password}`,
      "+acl|getuser",
      "+acl|setuser",
      "+info",
    ]);
    const cases = [
      { url: fixture.urlFor(fixture.user("sesame"), password, 1), reason: /ECONNREFUSED/, hint: /host and port/ },
      { url: fixture.urlFor(fixture.user("sesame"), password), reason: /WRONGPASS/, hint: /user and password/ },
      { url: fixture.urlFor(nokill, password), reason: /NOPERM/, hint: /lacks \+client\|kill/ },
    ];
    for (const { url, reason, hint } of cases) {
      const broken = redisAclConnector({ url }, "redis-broken");
      const context = enableContext(fixture.user("alice"));
      const error = await broken.revoke({ ...context, receipt: null }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: "connector_failed", userMessage: expect.stringMatching(reason) });
      expect(error).toMatchObject({ userMessage: expect.stringMatching(hint) });
      const check = await broken.check({ targets: [ENABLE] });
      expect(check.ok).toBe(false);
      expectNoSecret(
        [String(error), JSON.stringify(error), (error as Error).stack ?? "", ...check.problems],
        [url, password],
      );
    }
  });
});
