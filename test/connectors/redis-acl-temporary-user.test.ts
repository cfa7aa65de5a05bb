import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { isAppError } from "../../src/domain/errors.js";
import { expectNoSecret, runConnectorConformance } from "./conformance.js";
import {
  createRedisAclFixture,
  type RedisAclFixture,
  redisAclConnector,
  redisAclContext,
} from "./redis-acl-fixture.js";

/** The redis-acl connector creating and deleting temporary ACL users, against the real local Redis. */

let fixture: RedisAclFixture;
beforeAll(async () => {
  fixture = await createRedisAclFixture("rat");
});
afterAll(async () => {
  await fixture?.cleanup();
});

let users = 0;
const temporaryContext = (
  principal = fixture.user(`tmp${++users}`),
  rules = ["+@read", `~${fixture.prefix}:*`],
): GrantContext => redisAclContext(principal, { mode: "temporary-user", rules });

/** The flat ACL GETUSER reply as a map, or undefined when the user does not exist. */
async function aclUser(name: string): Promise<Map<string, unknown> | undefined> {
  const reply = (await fixture.admin("ACL", "GETUSER", name)) as unknown[] | null;
  if (reply === null) return undefined;
  return new Map(
    reply.flatMap((value, index) => (index % 2 === 0 ? [[String(value), reply[index + 1]] as const] : [])),
  );
}

runConnectorConformance(
  "redis-acl (temporary-user)",
  async () => ({
    connector: redisAclConnector({ url: fixture.sesameUrl }),
    makeContext: () => temporaryContext(),
    hasAccess: async (context) =>
      ((await aclUser(context.principal))?.get("flags") as string[] | undefined)?.includes("on") === true,
    // Each password is a way in: a retried grant must leave exactly one.
    countAccess: async (context) =>
      ((await aclUser(context.principal))?.get("passwords") as string[] | undefined)?.length ?? 0,
    removeOutOfBand: async (context) => {
      await fixture.admin("ACL", "DELUSER", context.principal);
    },
    secrets: fixture.secrets,
    breakConnector: async () =>
      redisAclConnector(
        { url: fixture.urlFor(fixture.user("sesame"), fixture.sesamePassword, 1) },
        "redis-unreachable",
      ),
    makeFailingContext: () => temporaryContext(fixture.user("sesame")),
  }),
  { brokenConnector: true, failingContext: true },
);

describe("redis-acl connector, temporary-user mode", () => {
  let connector: Connector;
  beforeAll(() => {
    connector = redisAclConnector({ url: fixture.sesameUrl });
  });

  it("refuses AUTH before the grant, allows it during (only what the rules allow), refuses it after", async () => {
    const context = temporaryContext();
    await fixture.admin("SET", fixture.key("report"), "42");
    expect(await fixture.canAuth(context.principal, "any-password")).toBe(false);

    const receipt = await connector.grant(context);
    expect(receipt.data).toEqual({
      mode: "temporary-user",
      user: context.principal,
      rules: ["+@read", `~${fixture.prefix}:*`],
      runId: expect.stringMatching(/^[0-9a-f]{40}$/),
      persisted: "none",
    });
    const password = receipt.secret?.password ?? "";
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const session = await fixture.openSession(context.principal, password);
    expect(await session.get(fixture.key("report"))).toBe("42");
    await expect(session.set(fixture.key("report"), "0")).rejects.toThrow(/NOPERM/);
    await expect(session.get("outside-the-pattern")).rejects.toThrow(/NOPERM/);

    await connector.revoke({ ...context, receipt: receipt.data });
    expect(await fixture.canAuth(context.principal, password)).toBe(false);
    await expect(session.get(fixture.key("report"))).rejects.toThrow();
    expect(await aclUser(context.principal)).toBeUndefined();
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
    session.disconnect();
  });

  it("re-arms its own user on a retried grant: the first password stops working", async () => {
    const context = temporaryContext();
    const first = await connector.grant(context);
    const second = await connector.grant(context);
    expect(await fixture.canAuth(context.principal, first.secret?.password ?? "")).toBe(false);
    expect(await fixture.canAuth(context.principal, second.secret?.password ?? "")).toBe(true);
    await connector.revoke({ ...context, receipt: null });
    expect(await aclUser(context.principal)).toBeUndefined();
  });

  it("never takes over or deletes a user it did not create", async () => {
    const carol = await fixture.defineUser("carol", ["reset", "on", ">carol-password", "+@read"]);
    const context = temporaryContext(carol);
    await expect(connector.grant(context)).rejects.toMatchObject({
      code: "connector_failed",
      userMessage: expect.stringMatching(/already exists .* will not take it over/),
    });
    await connector.revoke({ ...context, receipt: null });
    await connector.revoke({ ...context, receipt: { mode: "temporary-user", user: carol, rules: ["+@read"] } });
    expect(await fixture.canAuth(carol, "carol-password")).toBe(true);
    // Not Sesame's user, so this grant's access is not there to verify.
    expect(await connector.verifyRevoked?.({ ...context, receipt: null })).toBe(true);
  });

  it("refuses a second grant of the same principal while the first one's user exists", async () => {
    const first = temporaryContext();
    const receipt = await connector.grant(first);
    const second = { ...temporaryContext(first.principal), grantId: `${first.grantId}-other` };
    await expect(connector.grant(second)).rejects.toMatchObject({
      userMessage: expect.stringMatching(/wait until the other grant/),
    });
    await connector.revoke({ ...second, receipt: null });
    expect(await fixture.canAuth(first.principal, receipt.secret?.password ?? "")).toBe(true);
    await connector.revoke({ ...first, receipt: receipt.data });
  });

  it("reports a rule the server rejects without creating the user or leaking the password", async () => {
    const context = temporaryContext(undefined, ["+@read", "+@no-such-category"]);
    const error = await connector.grant(context).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
    expect(error.userMessage).toMatch(/\+@no-such-category.*fix the resource's rules/);
    expect(error.userMessage).not.toMatch(/#[0-9a-f]{64}/);
    expectNoSecret([error.message, error.userMessage, JSON.stringify(error)], fixture.secrets);
    expect(await aclUser(context.principal)).toBeUndefined();
  });

  it("refuses grant ids and rules that could smuggle ACL syntax", async () => {
    const context = { ...temporaryContext(), grantId: "x) +@all (" };
    const receipt = await connector.grant(context);
    const selectors = (await aclUser(context.principal))?.get("selectors") as unknown[][];
    expect(selectors).toEqual([
      ["commands", "-@all", "keys", expect.stringMatching(/^~sesame-grant:sha256-[0-9a-f]{64}$/), "channels", ""],
    ]);
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(await aclUser(context.principal)).toBeUndefined();
    await expect(
      connector.grant({ ...context, target: { mode: "temporary-user", rules: [">known-password"] } }),
    ).rejects.toMatchObject({ code: "config_invalid" });
  });
});
