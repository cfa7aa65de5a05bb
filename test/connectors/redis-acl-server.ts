import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { waitFor } from "../helpers/wait.js";

/**
 * A private redis-server that keeps its users in an ACL file, on a free loopback port, for the
 * aclSave tests (the shared test Redis has no ACL file, and its users must not be persisted).
 * It also runs with `acl-pubsub-default allchannels` (Redis 6.2's default), under which a
 * careless `reset` hands out every pub/sub channel.
 */
export interface PrivateRedis {
  port: number;
  aclFile: string;
  /** A connection as the default user (no password on this private server). */
  admin: Redis;
  /** True when AUTH as `user` succeeds on a fresh connection. */
  canAuth(user: string, password: string): Promise<boolean>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(tmpdir(), "sesame-redis-acl-"));
  const aclFile = join(dir, "users.acl");
  await writeFile(aclFile, "user default on nopass ~* &* +@all\n");
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--aclfile", aclFile, "--acl-pubsub-default", "allchannels", "--logfile", join(dir, "redis.log")];
  const server: ChildProcess = spawn("redis-server", args, { stdio: "ignore" });
  const admin = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  admin.on("error", () => undefined);
  await waitFor(() => admin.connect().then(() => true, () => false), `redis-server on port ${port}`);
  return {
    port,
    aclFile,
    admin,
    async canAuth(user, password) {
      const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on("error", () => undefined);
      try {
        await probe.connect();
        return (await probe.call("AUTH", [user, password]).catch(() => "refused")) === "OK";
      } finally {
        probe.disconnect();
      }
    },
    async stop() {
      admin.disconnect();
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
