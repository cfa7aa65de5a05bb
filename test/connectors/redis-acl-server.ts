import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "../helpers/free-port.js";
import { waitFor } from "../helpers/wait.js";

/**
 * A private redis-server on a free loopback port, for the tests that write ACL users to the
 * server's files or restart it (the shared test Redis must never be persisted or restarted). It
 * keeps its users in one of three ways:
 *   acl-file     an aclfile (ACL SAVE writes it)
 *   config-file  the `user` lines of its redis.conf (CONFIG REWRITE writes them), no aclfile
 *   memory       neither: started with command-line options only, users live in memory
 * It runs with `acl-pubsub-default allchannels` (Redis 6.2's default), under which a careless
 * `reset` hands out every pub/sub channel.
 */
export type PrivateRedisKind = "acl-file" | "config-file" | "memory";

export interface PrivateRedis {
  kind: PrivateRedisKind;
  port: number;
  /** The file Redis loads its users from at start (aclfile or redis.conf); undefined for `memory`. */
  usersFile: string | undefined;
  /** A connection as the default user (no password on this private server); replaced by restart(). */
  admin: Redis;
  /** The url of `user` on this server. */
  urlFor(user: string, password: string): string;
  /** True when AUTH as `user` succeeds on a fresh connection. */
  canAuth(user: string, password: string): Promise<boolean>;
  /** The `user <name> …` line of the users file, if any. */
  userLine(user: string): Promise<string | undefined>;
  /** What an operator or Sentinel does behind Sesame's back: ACL SAVE or CONFIG REWRITE, whichever this server uses. */
  persistOutOfBand(): Promise<void>;
  /** Stops the server (SIGTERM) and starts it again on the same port with the same files. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const clientOptions = {
  host: "127.0.0.1",
  lazyConnect: true,
  retryStrategy: () => null,
  maxRetriesPerRequest: 0,
} as const;

export async function startPrivateRedis(kind: PrivateRedisKind = "acl-file"): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), "sesame-redis-acl-"));
  const port = await freePort();
  const settings: [string, string][] = [
    ["port", String(port)],
    ["bind", "127.0.0.1"],
    ["save", '""'],
    ["appendonly", "no"],
    ["dir", dir],
    ["logfile", join(dir, "redis.log")],
    ["acl-pubsub-default", "allchannels"],
  ];
  let usersFile: string | undefined;
  let args: string[];
  if (kind === "config-file") {
    usersFile = join(dir, "redis.conf");
    await writeFile(usersFile, settings.map(([name, value]) => `${name} ${value}\n`).join(""));
    args = [usersFile];
  } else {
    if (kind === "acl-file") {
      usersFile = join(dir, "users.acl");
      await writeFile(usersFile, "user default on nopass ~* &* +@all\n");
      settings.push(["aclfile", usersFile]);
    }
    args = settings.flatMap(([name, value]) => [`--${name}`, value === '""' ? "" : value]);
  }

  let server: ChildProcess;
  const connectAdmin = async (): Promise<Redis> => {
    server = spawn("redis-server", args, { stdio: "ignore" });
    const admin = new Redis({ ...clientOptions, port });
    admin.on("error", () => undefined);
    await waitFor(
      () =>
        admin.connect().then(
          () => true,
          () => false,
        ),
      `redis-server on port ${port}`,
    );
    return admin;
  };
  const shutdown = async () => {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  };

  const redis: PrivateRedis = {
    kind,
    port,
    usersFile,
    admin: await connectAdmin(),
    urlFor: (user, password) => `redis://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    async canAuth(user, password) {
      const probe = new Redis({ ...clientOptions, port });
      probe.on("error", () => undefined);
      try {
        await probe.connect();
        return (await probe.call("AUTH", [user, password]).catch(() => "refused")) === "OK";
      } finally {
        probe.disconnect();
      }
    },
    async userLine(user) {
      if (usersFile === undefined) return undefined;
      return (await readFile(usersFile, "utf8")).split("\n").find((line) => line.startsWith(`user ${user} `));
    },
    async persistOutOfBand() {
      if (kind === "acl-file") await redis.admin.call("ACL", ["SAVE"]);
      else await redis.admin.call("CONFIG", ["REWRITE"]);
    },
    async restart() {
      redis.admin.disconnect();
      await shutdown();
      redis.admin = await connectAdmin();
    },
    async stop() {
      redis.admin.disconnect();
      await shutdown();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return redis;
}
