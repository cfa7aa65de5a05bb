import { Redis } from "ioredis";

/**
 * One short-lived connection per operation. Grants and revokes are rare, and a fresh connection
 * fails with the real reason (refused, wrong password) instead of ioredis's reconnect loop and
 * offline queue hiding it behind "Connection is closed".
 */

/** The commands Sesame sends; `call` takes each argument separately, so nothing is parsed from a joined string. */
export interface RedisSession {
  call(command: string, ...args: string[]): Promise<unknown>;
}

export async function withRedis<T>(
  url: string,
  timeoutMs: number,
  work: (session: RedisSession) => Promise<T>,
): Promise<T> {
  const redis = new Redis(url, {
    lazyConnect: true,
    // Each of these would send a command (a bare INFO, CLIENT SETINFO) Sesame does not need; it asks INFO server itself.
    enableReadyCheck: false,
    disableClientInfo: true,
    protocol: 2,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  // Also what keeps a socket error (a reset mid-call) from ending the process: ioredis emits it here.
  let firstError: unknown;
  redis.on("error", (error: unknown) => {
    firstError ??= error;
  });
  // A command on a broken connection fails with just "Connection is closed."; the socket's error says why.
  const why = (error: unknown): never => {
    throw firstError ?? error;
  };
  try {
    await redis.connect().catch(why);
    return await work({ call: (command, ...args) => redis.call(command, args).catch(why) });
  } finally {
    redis.disconnect();
  }
}

/** What ACL GETUSER tells about a user. */
export interface AclUser {
  flags: string[];
  /** The key pattern of each selector, e.g. "~sesame-grant:…" (Sesame's marker). */
  selectorKeys: string[];
}

export async function getUser(session: RedisSession, name: string): Promise<AclUser | undefined> {
  const reply = await session.call("ACL", "GETUSER", name);
  if (reply === null) return undefined;
  const fields = pairs(reply);
  const selectors = Array.isArray(fields.get("selectors")) ? (fields.get("selectors") as unknown[]) : [];
  return {
    flags: Array.isArray(fields.get("flags")) ? (fields.get("flags") as unknown[]).map(String) : [],
    selectorKeys: selectors.map((selector) => String(pairs(selector).get("keys") ?? "")),
  };
}

/**
 * The server's run_id (INFO server): a random id each redis-server process draws at start. It
 * tells Sesame whether a revoke talks to the same server process the grant did: after a restart
 * or when the url now leads to another node (failover behind a VIP or DNS name) it differs.
 */
export async function serverRunId(session: RedisSession): Promise<string> {
  const info = String(await session.call("INFO", "server"));
  const runId = /^run_id:([0-9a-f]{40})\r?$/m.exec(info)?.[1];
  if (runId === undefined) throw new Error("INFO server did not report a run_id");
  return runId;
}

/** How many connections are authenticated as `name` (CLIENT LIST has no USER filter before Redis 7.2). */
export async function countClients(session: RedisSession, name: string): Promise<number> {
  const reply = String(await session.call("CLIENT", "LIST"));
  return reply.split("\n").filter((line) => line.split(" ").includes(`user=${name}`)).length;
}

// RESP2 maps arrive as flat [key, value, key, value, ...] arrays.
function pairs(reply: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  if (!Array.isArray(reply)) return map;
  for (let index = 0; index + 1 < reply.length; index += 2) map.set(String(reply[index]), reply[index + 1]);
  return map;
}
