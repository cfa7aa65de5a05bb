import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector } from "../../src/connectors/connector.js";
import { expectNoSecret } from "./conformance.js";
import { createRedisAclFixture, redisAclConnector, redisAclContext, SESAME_RULES, type RedisAclFixture } from "./redis-acl-fixture.js";
import { startPrivateRedis, type PrivateRedis } from "./redis-acl-server.js";

/** `aclSave: true`: changes reach the ACL file, and a server without one is reported, not silently ignored. */

const SESAME_PASSWORD = "s@ve-p%ss:word";
let server: PrivateRedis;
let shared: RedisAclFixture;
let connector: Connector;
beforeAll(async () => {
  server = await startPrivateRedis();
  await server.admin.call("ACL", ["SETUSER", "sesame", "on", `>${SESAME_PASSWORD}`, ...SESAME_RULES, "+acl|save"]);
  await server.admin.call("ACL", ["SETUSER", "bob", "off", ">bob-password", "+@read"]);
  await server.admin.call("ACL", ["SAVE"]);
  connector = redisAclConnector({ url: `redis://sesame:${encodeURIComponent(SESAME_PASSWORD)}@127.0.0.1:${server.port}`, aclSave: true });
  shared = await createRedisAclFixture("ras");
});
afterAll(async () => {
  await server?.stop();
  await shared?.cleanup();
});

const aclFile = () => readFile(server.aclFile, "utf8");

describe("redis-acl connector with aclSave", () => {
  it("writes a temporary user to the ACL file in a form Redis loads back, and removes it on revoke", async () => {
    const context = redisAclContext("tmp-carol", { mode: "temporary-user", rules: ["+@read", "%R~reports:{2024}*", "&news.*"] });
    expect(await connector.check({ targets: [context.target] })).toEqual({ ok: true, problems: [] });
    const receipt = await connector.grant(context);
    const line = (await aclFile()).split("\n").find((entry) => entry.startsWith("user tmp-carol "));
    expect(line).toMatch(new RegExp(`^user tmp-carol on .*\\(~sesame-grant:${context.grantId} resetchannels -@all\\)$`));
    expect(line).toContain("&news.*");
    expect(line).not.toContain("&*");

    // ACL LOAD replaces every user with the file's; Sesame must still recognise its user afterwards.
    await server.admin.call("ACL", ["LOAD"]);
    expect(await server.canAuth("tmp-carol", receipt.secret?.password ?? "")).toBe(true);
    await connector.revoke({ ...context, receipt: null });
    expect(await server.canAuth("tmp-carol", receipt.secret?.password ?? "")).toBe(false);
    expect(await aclFile()).not.toMatch(/tmp-carol/);
    expect(await connector.verifyRevoked?.({ ...context, receipt: null })).toBe(true);
  });

  it("writes an enabled user's on and off to the ACL file", async () => {
    const context = redisAclContext("bob", { mode: "enable-user" });
    const receipt = await connector.grant(context);
    expect(await aclFile()).toMatch(/^user bob on /m);
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(await aclFile()).toMatch(/^user bob off /m);
  });

  it("reports a server without an ACL file in check() and in a grant, without the password", async () => {
    const user = await shared.defineUser("saver", ["reset", "on", `>${SESAME_PASSWORD}`, ...SESAME_RULES, "+acl|save"]);
    const url = shared.urlFor(user, SESAME_PASSWORD);
    const noFile = redisAclConnector({ url, aclSave: true });
    const check = await noFile.check();
    expect(check).toEqual({ ok: false, problems: [expect.stringMatching(/aclSave is true but the Redis server keeps no ACL file/)] });

    const error = await noFile.grant(redisAclContext(shared.user("tmp"), { mode: "temporary-user", rules: ["+@read"] })).then(() => undefined, (caught: unknown) => caught);
    expect(error).toMatchObject({ code: "connector_failed", userMessage: expect.stringMatching(/set aclSave: false/) });
    expectNoSecret([String(error), JSON.stringify(error), ...check.problems], [url, SESAME_PASSWORD]);
  });
});
