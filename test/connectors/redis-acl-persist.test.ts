import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector, GrantContext, GrantReceipt, RevokeContext } from "../../src/connectors/connector.js";
import { expectNoSecret } from "./conformance.js";
import { PERSIST_RULES, redisAclConnector, redisAclContext, SESAME_RULES } from "./redis-acl-fixture.js";
import { type PrivateRedis, startPrivateRedis } from "./redis-acl-server.js";

/**
 * `persist`: every grant and revoke is written to the server's files, so a revoked user cannot come
 * back with a restart after someone (an operator, Sentinel on failover) ran CONFIG REWRITE or ACL
 * SAVE during the grant; and a revoke that finds nothing on another server than the grant's fails.
 * Each case runs against private redis-servers it may rewrite and restart.
 */

const SESAME_PASSWORD = "s@ve-p%ss:word";
const BOB_PASSWORD = "bob-password";
const TEMPORARY = { mode: "temporary-user", rules: ["+@read", "~reports:*"] };
const ENABLE = { mode: "enable-user" };

const servers: PrivateRedis[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

/** A private server with Sesame's user (with `rules`) and an operator-defined user bob, switched off, both in the server's files. */
async function privateServer(
  kind: PrivateRedis["kind"],
  rules: readonly string[] = [...SESAME_RULES, ...PERSIST_RULES],
): Promise<PrivateRedis> {
  const server = await startPrivateRedis(kind);
  servers.push(server);
  await provision(server, rules);
  return server;
}

async function provision(
  server: PrivateRedis,
  rules: readonly string[] = [...SESAME_RULES, ...PERSIST_RULES],
): Promise<void> {
  await server.admin.call("ACL", ["SETUSER", "sesame", "reset", "on", `>${SESAME_PASSWORD}`, ...rules]);
  await server.admin.call("ACL", ["SETUSER", "bob", "reset", "off", `>${BOB_PASSWORD}`, "+@read"]);
  if (server.kind !== "memory") await server.persistOutOfBand();
}

function connectorFor(server: PrivateRedis, config: Record<string, unknown> = {}): Connector {
  return redisAclConnector({ url: server.urlFor("sesame", SESAME_PASSWORD), persist: "auto", ...config });
}

const revokeContext = (context: GrantContext, receipt: GrantReceipt | null): RevokeContext => ({
  ...context,
  receipt: receipt?.data ?? null,
});
const userExists = async (server: PrivateRedis, user: string) =>
  (await server.admin.call("ACL", ["GETUSER", user])) !== null;
const flags = async (server: PrivateRedis, user: string) =>
  ((await server.admin.call("ACL", ["GETUSER", user])) as unknown[])[1] as string[];

describe("redis-acl persist on a server that keeps its users in redis.conf", () => {
  let server: PrivateRedis;
  let connector: Connector;
  beforeAll(async () => {
    server = await privateServer("config-file");
    connector = connectorFor(server);
  });

  it("check() passes, and finds out by itself that the server needs CONFIG REWRITE", async () => {
    expect(await connector.check({ targets: [ENABLE, TEMPORARY] })).toEqual({ ok: true, problems: [] });
  });

  it("a temporary user written to redis.conf during the grant does not come back after revoke and restart", async () => {
    const context = redisAclContext("tmp-alice", TEMPORARY);
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({ persisted: "config-rewrite", runId: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const password = receipt.secret?.password ?? "";
    // Sentinel on failover, or an operator: writes every in-memory user into redis.conf.
    await server.persistOutOfBand();
    expect(await server.userLine("tmp-alice")).toMatch(/^user tmp-alice on /);

    await connector.revoke(revokeContext(context, receipt));
    expect(await connector.verifyRevoked?.(revokeContext(context, receipt))).toBe(true);
    expect(await server.userLine("tmp-alice")).toBeUndefined();

    await server.restart();
    expect(await userExists(server, "tmp-alice")).toBe(false);
    expect(await server.canAuth("tmp-alice", password)).toBe(false);
  });

  it("an enable-user user switched on in redis.conf during the grant stays off after revoke and restart", async () => {
    const context = redisAclContext("bob", ENABLE);
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({ wasEnabled: false, persisted: "config-rewrite" });
    await server.persistOutOfBand();
    expect(await server.userLine("bob")).toMatch(/^user bob on /);

    await connector.revoke(revokeContext(context, receipt));
    expect(await server.userLine("bob")).toMatch(/^user bob off /);

    await server.restart();
    expect(await flags(server, "bob")).toContain("off");
    expect(await server.canAuth("bob", BOB_PASSWORD)).toBe(false);
  });

  it("writes the file on a revoke that finds the user deleted in memory already", async () => {
    const context = redisAclContext("tmp-gone", TEMPORARY);
    const receipt = await connector.grant(context);
    await server.persistOutOfBand();
    await server.admin.call("ACL", ["DELUSER", "tmp-gone"]);
    expect(await server.userLine("tmp-gone")).toMatch(/^user tmp-gone on /);

    await connector.revoke(revokeContext(context, receipt));
    expect(await server.userLine("tmp-gone")).toBeUndefined();
    await server.restart();
    expect(await server.canAuth("tmp-gone", receipt.secret?.password ?? "")).toBe(false);
  });

  it("a restart during the grant brings the written user back, and the revoke then removes it", async () => {
    const context = redisAclContext("tmp-restarted", TEMPORARY);
    const receipt = await connector.grant(context);
    await server.restart();
    expect(await server.canAuth("tmp-restarted", receipt.secret?.password ?? "")).toBe(true);
    // Another run_id, but the user is there: the same server, restarted.
    await connector.revoke(revokeContext(context, receipt));
    await server.restart();
    expect(await server.canAuth("tmp-restarted", receipt.secret?.password ?? "")).toBe(false);
  });

  it("with persist: none the user comes back (what the tests above guard against)", async () => {
    const unsafe = connectorFor(server, { persist: "none" });
    const context = redisAclContext("tmp-unsafe", TEMPORARY);
    const receipt = await unsafe.grant(context);
    await server.persistOutOfBand();
    await unsafe.revoke(revokeContext(context, receipt));
    expect(await server.canAuth("tmp-unsafe", receipt.secret?.password ?? "")).toBe(false);
    await server.restart();
    expect(await server.canAuth("tmp-unsafe", receipt.secret?.password ?? "")).toBe(true);
    await connector.revoke(revokeContext(context, receipt));
    await server.restart();
    expect(await server.canAuth("tmp-unsafe", receipt.secret?.password ?? "")).toBe(false);
  });

  it("without +config|rewrite: check() names it, and a grant fails and is undone in memory", async () => {
    await server.admin.call("ACL", [
      "SETUSER",
      "sesame-lite",
      "reset",
      "on",
      `>${SESAME_PASSWORD}`,
      ...SESAME_RULES,
      "+acl|save",
    ]);
    const url = server.urlFor("sesame-lite", SESAME_PASSWORD);
    const lite = redisAclConnector({ url, persist: "auto" });
    const check = await lite.check({ targets: [ENABLE, TEMPORARY] });
    expect(check).toEqual({
      ok: false,
      problems: [
        expect.stringMatching(/keeps its ACL users in redis\.conf .*ACL SETUSER sesame-lite \+config\|rewrite$/),
      ],
    });

    const temporary = redisAclContext("tmp-lite", TEMPORARY);
    const error = await lite.grant(temporary).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({
      code: "connector_failed",
      userMessage: expect.stringMatching(/grant of "tmp-lite" was undone.*lacks \+config\|rewrite/),
    });
    expect(await userExists(server, "tmp-lite")).toBe(false);
    await expect(lite.grant(redisAclContext("bob", ENABLE))).rejects.toMatchObject({
      userMessage: expect.stringMatching(/grant of "bob" was undone/),
    });
    expect(await flags(server, "bob")).toContain("off");

    // A revoke removes the access in memory, then fails so that Sesame retries and alerts.
    await server.admin.call("ACL", ["SETUSER", "bob", "on"]);
    const revokeError = await lite.revoke(revokeContext(redisAclContext("bob", ENABLE), null)).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(revokeError).toMatchObject({
      userMessage: expect.stringMatching(
        /"bob" is removed in memory, but .* a restart of the server could bring the access back/,
      ),
    });
    expect(await flags(server, "bob")).toContain("off");
    expectNoSecret(
      [String(error), JSON.stringify(error), String(revokeError), JSON.stringify(revokeError), ...check.problems],
      [url, SESAME_PASSWORD],
    );

    const aclFile = await redisAclConnector({
      url: server.urlFor("sesame", SESAME_PASSWORD),
      persist: "acl-file",
    }).check();
    expect(aclFile).toEqual({
      ok: false,
      problems: [expect.stringMatching(/persist is acl-file but the Redis server keeps no ACL file/)],
    });
  });
});

describe("redis-acl persist on a server with an aclfile", () => {
  let server: PrivateRedis;
  let connector: Connector;
  beforeAll(async () => {
    server = await privateServer("acl-file");
    connector = connectorFor(server);
  });

  it("check() passes with auto and acl-file, and names +acl|save when it is missing", async () => {
    expect(await connector.check({ targets: [ENABLE, TEMPORARY] })).toEqual({ ok: true, problems: [] });
    expect(await connectorFor(server, { persist: "acl-file" }).check()).toEqual({ ok: true, problems: [] });
    await server.admin.call("ACL", ["SETUSER", "sesame-nosave", "reset", "on", `>${SESAME_PASSWORD}`, ...SESAME_RULES]);
    const check = await redisAclConnector({
      url: server.urlFor("sesame-nosave", SESAME_PASSWORD),
      persist: "auto",
    }).check();
    expect(check).toEqual({ ok: false, problems: [expect.stringMatching(/ACL SETUSER sesame-nosave \+acl\|save$/)] });
  });

  it("writes a temporary user to the ACL file in a form Redis loads back, and removes it on revoke", async () => {
    const context = redisAclContext("tmp-carol", {
      mode: "temporary-user",
      rules: ["+@read", "%R~reports:{2024}*", "&news.*"],
    });
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({ persisted: "acl-file" });
    const line = await server.userLine("tmp-carol");
    expect(line).toMatch(
      new RegExp(`^user tmp-carol on .*\\(~sesame-grant:${context.grantId} resetchannels -@all\\)$`),
    );
    expect(line).toContain("&news.*");
    expect(line).not.toContain("&*");

    // ACL LOAD replaces every user with the file's; Sesame must still recognise its user afterwards.
    await server.admin.call("ACL", ["LOAD"]);
    expect(await server.canAuth("tmp-carol", receipt.secret?.password ?? "")).toBe(true);
    await connector.revoke(revokeContext(context, null));
    expect(await server.canAuth("tmp-carol", receipt.secret?.password ?? "")).toBe(false);
    expect(await server.userLine("tmp-carol")).toBeUndefined();
    expect(await connector.verifyRevoked?.(revokeContext(context, null))).toBe(true);
  });

  it("a temporary user saved by someone's ACL SAVE during the grant does not come back after revoke and restart", async () => {
    const context = redisAclContext("tmp-dave", TEMPORARY);
    const receipt = await connector.grant(context);
    await server.persistOutOfBand();
    await connector.revoke(revokeContext(context, receipt));
    await server.restart();
    expect(await userExists(server, "tmp-dave")).toBe(false);
    expect(await server.canAuth("tmp-dave", receipt.secret?.password ?? "")).toBe(false);
  });

  it("an enable-user user is on in the ACL file during the grant and off after revoke and restart", async () => {
    const context = redisAclContext("bob", ENABLE);
    const receipt = await connector.grant(context);
    expect(await server.userLine("bob")).toMatch(/^user bob on /);
    await server.persistOutOfBand();
    await connector.revoke(revokeContext(context, receipt));
    expect(await server.userLine("bob")).toMatch(/^user bob off /);
    await server.restart();
    expect(await server.canAuth("bob", BOB_PASSWORD)).toBe(false);
  });
});

describe("redis-acl persist on a server that keeps its users in memory only", () => {
  it("persists nothing, and a revoke after a restart that dropped the user succeeds", async () => {
    const server = await privateServer("memory");
    const connector = connectorFor(server);
    expect(await connector.check({ targets: [TEMPORARY] })).toEqual({ ok: true, problems: [] });
    const context = redisAclContext("tmp-erin", TEMPORARY);
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({ persisted: "none" });

    await server.restart();
    await provision(server);
    expect(await userExists(server, "tmp-erin")).toBe(false);
    // Another run_id and no user: the grant was written nowhere, so the restart explains it.
    await connector.revoke(revokeContext(context, receipt));
    expect(await connector.verifyRevoked?.(revokeContext(context, receipt))).toBe(true);
  });
});

describe("redis-acl revoke when the url leads to another server", () => {
  let primary: PrivateRedis;
  let promoted: PrivateRedis;
  beforeAll(async () => {
    [primary, promoted] = await Promise.all([privateServer("config-file"), privateServer("config-file")]);
  });

  it("fails instead of reporting success when the access is not found on another run_id, until the operator clears it", async () => {
    const context = redisAclContext("tmp-frank", TEMPORARY);
    const receipt = await connectorFor(primary).grant(context);
    const grantRunId = String(receipt.data.runId);

    // A failover behind a VIP: the same url now reaches the promoted replica, which never had the user.
    const error = await connectorFor(promoted)
      .revoke(revokeContext(context, receipt))
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toMatchObject({
      code: "connector_failed",
      userMessage: expect.stringMatching(/not the one the grant was made on/),
    });
    expect((error as { userMessage: string }).userMessage).toContain(
      `add "${grantRunId}" to this connector's clearedRunIds`,
    );
    expect(await primary.canAuth("tmp-frank", receipt.secret?.password ?? "")).toBe(true);

    // The operator removes the user on the old node, then tells Sesame it did.
    await connectorFor(primary).revoke(revokeContext(context, receipt));
    await connectorFor(promoted, { clearedRunIds: [grantRunId] }).revoke(revokeContext(context, receipt));
  });

  it("does the same for an enable-user user that is off on the other node", async () => {
    const context = redisAclContext("bob", ENABLE);
    const receipt = await connectorFor(primary).grant(context);
    await expect(connectorFor(promoted).revoke(revokeContext(context, receipt))).rejects.toMatchObject({
      userMessage: expect.stringMatching(/not the one the grant was made on/),
    });
    expect(await primary.canAuth("bob", BOB_PASSWORD)).toBe(true);
    await connectorFor(primary).revoke(revokeContext(context, receipt));
    expect(await primary.canAuth("bob", BOB_PASSWORD)).toBe(false);
  });

  it("still succeeds where it finds the access, and where the grant left no receipt", async () => {
    const context = redisAclContext("bob", ENABLE);
    const receipt = await connectorFor(primary).grant(context);
    await promoted.admin.call("ACL", ["SETUSER", "bob", "on"]);
    await connectorFor(promoted).revoke(revokeContext(context, receipt));
    expect(await flags(promoted, "bob")).toContain("off");
    // Without a receipt there is no run_id to compare (a grant that failed before it returned one).
    await connectorFor(promoted).revoke(revokeContext(context, null));
    await connectorFor(primary).revoke(revokeContext(context, receipt));
  });
});
