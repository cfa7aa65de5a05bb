import { afterAll, beforeAll } from "vitest";
import { TEST_REDIS_URL } from "../helpers/database.js";
import { runConnectionCutCases } from "./connection-cut.js";
import { type CutProxy, startCutProxy } from "./cut-proxy.js";
import {
  createRedisAclFixture,
  type RedisAclFixture,
  redisAclConnector,
  redisAclContext,
} from "./redis-acl-fixture.js";

/**
 * The redis-acl connector (temporary-user mode) talking to the local Redis through a TCP proxy
 * that holds its ACL SETUSER or ACL DELUSER on the wire and then resets the connection.
 */

let fixture: RedisAclFixture;
let proxy: CutProxy;
beforeAll(async () => {
  fixture = await createRedisAclFixture("cut");
  const server = new URL(TEST_REDIS_URL);
  proxy = await startCutProxy({ host: server.hostname, port: Number(server.port || 6379) });
});
afterAll(async () => {
  await proxy?.close();
  await fixture?.cleanup();
});

/** The flat ACL GETUSER reply as a map, or undefined when the user does not exist. */
async function aclUser(name: string): Promise<Map<string, unknown> | undefined> {
  const reply = (await fixture.admin("ACL", "GETUSER", name)) as unknown[] | null;
  if (reply === null) return undefined;
  return new Map(
    reply.flatMap((value, index) => (index % 2 === 0 ? [[String(value), reply[index + 1]] as const] : [])),
  );
}

let users = 0;
runConnectionCutCases("redis-acl (temporary-user), TCP reset", async () => {
  const url = fixture.urlFor(fixture.user("sesame"), fixture.sesamePassword, proxy.port);
  return {
    connector: redisAclConnector({ url }, "redis-cut"),
    makeContext: () =>
      redisAclContext(fixture.user(`tmp${++users}`), {
        mode: "temporary-user",
        rules: ["+@read", `~${fixture.prefix}:*`],
      }),
    hasAccess: async (context) =>
      ((await aclUser(context.principal))?.get("flags") as string[] | undefined)?.includes("on") === true,
    // Each password is a way in: the retried grant must leave exactly one.
    countAccess: async (context) =>
      ((await aclUser(context.principal))?.get("passwords") as string[] | undefined)?.length ?? 0,
    holdNext: (action) => proxy.holdAt("toServer", action === "grant" ? "SETUSER" : "DELUSER"),
    cut: async () => proxy.resetAll(),
    secrets: [...fixture.secrets, url],
  };
});
