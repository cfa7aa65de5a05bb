import type { Redis } from "ioredis";
import type { RateLimit, RateVerdict } from "../chat/core/chat-intake.js";
import { batchWhileBusy } from "./batch-while-busy.js";

/**
 * A per-key limit of `perMinute` actions in a minute that starts at the key's first action,
 * counted in the Redis every Sesame process shares (one Lua script: INCR, PEXPIRE on the first). Chat uses it per platform user; the API uses
 * @fastify/rate-limit on the same Redis, per identity. When Redis does not answer within a
 * moment the action is let through: a limit must not take chat down with Redis.
 */

const WINDOW_MS = 60_000;
const REDIS_TIMEOUT_MS = 500;
const HIT = `local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;

export function createRateLimiter(redis: Redis, prefix: string, perMinute: number): RateLimit {
  // Hits that arrive together go to Redis in one pipeline (a burst of clicks costs one round trip).
  const hit = batchWhileBusy(
    async (keys: string[]): Promise<RateVerdict[]> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("Redis did not answer")), REDIS_TIMEOUT_MS);
        });
        const pipeline = redis.pipeline();
        for (const key of keys) pipeline.eval(HIT, 1, `${prefix}:rate-limit:chat:${key}`, WINDOW_MS);
        const answers = await Promise.race([pipeline.exec(), timeout]);
        return keys.map((_, i) => verdictOf(answers?.[i], perMinute));
      } catch {
        return keys.map(() => ({ ok: true }));
      } finally {
        clearTimeout(timer);
      }
    },
    { maxBatch: 100, atOnce: 2 },
  );
  return { perMinute, hit };
}

/** A key's count and time left; a failed command lets the action through, like an absent Redis. */
function verdictOf(answer: [Error | null, unknown] | undefined, perMinute: number): RateVerdict {
  if (!answer || answer[0]) return { ok: true };
  const [count, ttl] = answer[1] as [number, number];
  if (count <= perMinute) return { ok: true };
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
}
