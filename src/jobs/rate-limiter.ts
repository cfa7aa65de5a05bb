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
/** One call for a whole batch of hits: each key's count and time left, in order (a key may repeat). */
const HIT_MANY = `local answers = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  answers[i] = {count, redis.call('PTTL', key)}
end
return answers`;

export function createRateLimiter(redis: Redis, prefix: string, perMinute: number): RateLimit {
  // Hits that arrive together go to Redis in one script call (a burst of clicks costs one command).
  const hit = batchWhileBusy(
    async (keys: string[]): Promise<RateVerdict[]> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("Redis did not answer")), REDIS_TIMEOUT_MS);
        });
        const redisKeys = keys.map((key) => `${prefix}:rate-limit:chat:${key}`);
        const answers = (await Promise.race([
          redis.eval(HIT_MANY, redisKeys.length, ...redisKeys, WINDOW_MS),
          timeout,
        ])) as [number, number][];
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

/** A key's count and time left. */
function verdictOf(answer: [number, number] | undefined, perMinute: number): RateVerdict {
  if (!answer) return { ok: true };
  const [count, ttl] = answer;
  if (count <= perMinute) return { ok: true };
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
}
