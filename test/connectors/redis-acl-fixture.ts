import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { redisAclConnectorDefinition as definition } from "../../src/connectors/redis-acl/redis-acl-connector.js";
import { TEST_REDIS_URL } from "../helpers/database.js";

/**
 * ACL users for one test file on the shared local Redis, all named `<random prefix>_<suffix>` so
 * files can run in parallel; the default user and other files' users are never touched.
 *   sesame   Sesame's least-privilege user (the minimum documented in the connector's README)
 *   alice    an operator-defined user for enable-user targets: off, password, +@read on the prefix's keys
 */

/** Exactly what Sesame's user needs for both target modes with `persist: none`, plus ACL DRYRUN for check(). */
export const SESAME_RULES = [
  "resetkeys",
  "resetchannels",
  "-@all",
  "+acl|getuser",
  "+acl|setuser",
  "+acl|deluser",
  "+acl|dryrun",
  "+client|list",
  "+client|kill",
  "+info",
];
/** What `persist: auto` adds: ACL SAVE, and CONFIG REWRITE for servers without an aclfile. */
export const PERSIST_RULES = ["+acl|save", "+config|rewrite"];

/**
 * Builds the connector the way the registry does (config parsed, secret fields collected).
 * `persist` defaults to none here: the shared test Redis must never write its files (other tests
 * use it), so tests that persist use a private server (redis-acl-server.ts) and say so.
 */
export function redisAclConnector(config: Record<string, unknown>, name = "redis-test"): Connector {
  const parsed = definition.configSchema.parse({ persist: "none", ...config });
  return definition.create(parsed, { name, secrets: [parsed.url] });
}

let sequence = 0;
export function redisAclContext(principal: string, target: Record<string, unknown>): GrantContext {
  return {
    grantId: `grant-${process.pid}-${++sequence}`,
    principal,
    target: definition.targetSchema.parse(target),
    expiresAt: new Date(Date.now() + 3_600_000),
  };
}

export interface RedisAclFixture {
  prefix: string;
  user(suffix: string): string;
  /** A key the test users' rules cover. */
  key(suffix: string): string;
  /** URL of `user` on the test Redis (or on `port`). */
  urlFor(user: string, password: string, port?: number): string;
  sesameUrl: string;
  sesamePassword: string;
  alicePassword: string;
  /** The passwords and URLs handed to connectors; none may ever appear in an error. */
  secrets: string[];
  /** Runs a command as the server's default user (the test's "administrator"). */
  admin(command: string, ...args: string[]): Promise<unknown>;
  /** Creates an ACL user with these rules (removed by cleanup). */
  defineUser(suffix: string, rules: readonly string[]): Promise<string>;
  /** True when AUTH as `user` succeeds. */
  canAuth(user: string, password: string): Promise<boolean>;
  /** An open, authenticated connection as `user`, which the caller expects to be closed by a revoke. */
  openSession(user: string, password: string): Promise<Redis>;
  cleanup(): Promise<void>;
}

const clientOptions = {
  lazyConnect: true,
  enableReadyCheck: false,
  retryStrategy: () => null,
  maxRetriesPerRequest: 0,
} as const;

export async function createRedisAclFixture(label: string): Promise<RedisAclFixture> {
  const prefix = `sesame_t${randomBytes(4).toString("hex")}_${label}`;
  const user = (suffix: string) => `${prefix}_${suffix}`;
  const admin = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  await admin.connect();
  const run = (command: string, ...args: string[]) => admin.call(command, args);
  const urlFor = (name: string, password: string, port?: number) => {
    const url = new URL(TEST_REDIS_URL);
    url.username = encodeURIComponent(name);
    url.password = encodeURIComponent(password);
    if (port !== undefined) url.port = String(port);
    return url.toString();
  };
  const defineUser = async (suffix: string, rules: readonly string[]) => {
    await run("ACL", "SETUSER", user(suffix), ...rules);
    return user(suffix);
  };
  // Special characters on purpose: they must be redacted in every spelling.
  const sesamePassword = `s@me:${randomBytes(6).toString("hex")}/?%`;
  const alicePassword = `alice-${randomBytes(6).toString("hex")}`;
  await defineUser("sesame", ["reset", "on", `>${sesamePassword}`, ...SESAME_RULES]);
  await defineUser("alice", ["reset", "off", `>${alicePassword}`, "+@read", `~${prefix}:*`]);
  const sesameUrl = urlFor(user("sesame"), sesamePassword);

  const openSession = async (name: string, password: string) => {
    const session = new Redis(urlFor(name, password), clientOptions);
    let firstError: unknown;
    // Also keeps the expected "connection closed by the revoke" from crashing the test process.
    session.on("error", (error: unknown) => {
      firstError ??= error;
    });
    await session.connect().catch((error: unknown) => {
      throw firstError ?? error;
    });
    return session;
  };
  return {
    prefix,
    user,
    key: (suffix) => `${prefix}:${suffix}`,
    urlFor,
    sesameUrl,
    sesamePassword,
    alicePassword,
    secrets: [sesameUrl, sesamePassword],
    admin: run,
    defineUser,
    async canAuth(name, password) {
      try {
        const session = await openSession(name, password);
        session.disconnect();
        return true;
      } catch (error) {
        if (/WRONGPASS/.test(String(error))) return false;
        throw error;
      }
    },
    openSession,
    async cleanup() {
      const users = (await run("ACL", "USERS")) as string[];
      const ours = users.filter((name) => name.startsWith(`${prefix}_`));
      if (ours.length > 0) await run("ACL", "DELUSER", ...ours);
      const keys = (await run("KEYS", `${prefix}:*`)) as string[];
      if (keys.length > 0) await run("DEL", ...keys);
      admin.disconnect();
    },
  };
}
