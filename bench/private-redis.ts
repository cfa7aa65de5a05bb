import { Redis } from "ioredis";
import { describeExit, type ManagedChild, startChild } from "./child-process.js";
import { freePort } from "./free-port.js";
import { waitUntil } from "./wait.js";

/**
 * A throwaway redis-server on a spare loopback port: the bench never touches a shared Redis
 * (nothing to flush or clean up there) and measures BullMQ on a Redis nobody else loads.
 */
export interface PrivateRedis {
  url: string;
  version: string;
  child: ManagedChild;
  stop(): Promise<void>;
}

async function ping(port: number): Promise<boolean> {
  const probe = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  // No snapshots, no append-only file: nothing is written to disk, nothing is left behind.
  const child = await startChild("redis-server", "redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
  try {
    await waitUntil("the private redis-server to answer", () => ping(port), {
      timeoutMs: 10_000,
      abandon: child.exited.then((exit) => `redis-server ${describeExit(exit)}:\n${child.tail()}`),
    });
  } catch (error) {
    await child.stop(2_000);
    throw error;
  }
  const info = new Redis({ port, host: "127.0.0.1" });
  info.on("error", () => undefined);
  const version = /redis_version:(\S+)/.exec(await info.info("server"))?.[1] ?? "unknown";
  info.disconnect();
  return {
    url: `redis://127.0.0.1:${port}`,
    version,
    child,
    stop: async () => void (await child.stop(5_000)),
  };
}
