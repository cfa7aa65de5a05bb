import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from "@fastify/rate-limit";
import type { Redis } from "ioredis";
import type { RateLimit, RateVerdict } from "../chat/core/chat-intake.js";
import { batchWhileBusy } from "./batch-while-busy.js";

/**
 * Per-key limits of so many actions a minute, each window starting at the key's first action,
 * counted in the Redis every Sesame process shares (INCR, PEXPIRE on the first). Chat limits per
 * platform user, the API per identity. Hits that arrive together go to Redis in one script call:
 * a burst of clicks or API calls costs one command, not one each.
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

interface HitCount {
  count: number;
  ttlMs: number;
}

const COMMAND = "sesameHitMany";
type WithHitMany = Redis & { [COMMAND](...keysThenWindow: (string | number)[]): Promise<[number, number][]> };

/**
 * One counter per connection: chat's limit and the API's, counted together, share one script call
 * when their hits arrive together.
 */
const countersByConnection = new WeakMap<Redis, (key: string) => Promise<HitCount>>();

function hitCounterOf(redis: Redis): (key: string) => Promise<HitCount> {
  let counter = countersByConnection.get(redis);
  if (!counter) {
    counter = createHitCounter(redis);
    countersByConnection.set(redis, counter);
  }
  return counter;
}

/** Counts a hit on a Redis key; rejects when Redis does not answer within a moment. */
function createHitCounter(redis: Redis): (key: string) => Promise<HitCount> {
  // Sent by its hash once Redis knows it (EVALSHA), as BullMQ's own scripts are.
  if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { lua: HIT_MANY });
  return batchWhileBusy(
    async (keys: string[]): Promise<HitCount[]> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("Redis did not answer")), REDIS_TIMEOUT_MS);
        });
        const answers = await Promise.race([(redis as WithHitMany)[COMMAND](keys.length, ...keys, WINDOW_MS), timeout]);
        return answers.map(([count, ttlMs]) => ({ count, ttlMs }));
      } finally {
        clearTimeout(timer);
      }
    },
    { maxBatch: 100, atOnce: 2 },
  );
}

/** Chat's limit. When Redis does not answer the action is let through: a limit must not take chat down with Redis. */
export function createRateLimiter(redis: Redis, prefix: string, perMinute: number): RateLimit {
  const count = hitCounterOf(redis);
  return {
    perMinute,
    hit: (key) =>
      count(`${prefix}:rate-limit:chat:${key}`).then(
        (hit) => verdictOf(hit, perMinute),
        (): RateVerdict => ({ ok: true }),
      ),
  };
}

/** A key's count and time left. */
function verdictOf({ count, ttlMs }: HitCount, perMinute: number): RateVerdict {
  if (count <= perMinute) return { ok: true };
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) };
}

/** @fastify/rate-limit's store over a shared hit counter: every route counts on the same keys. */
class SharedCounterStore implements FastifyRateLimitStore {
  constructor(
    private readonly count: (key: string) => Promise<HitCount>,
    private readonly nameSpace: string,
  ) {}

  incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void): void {
    this.count(`${this.nameSpace}${key}`).then(
      ({ count, ttlMs }) => callback(null, { current: count, ttl: ttlMs }),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }

  child(): FastifyRateLimitStore {
    return this;
  }
}

/**
 * The API's counter for @fastify/rate-limit, on the keys its own Redis store used (`nameSpace` +
 * identity), over API_RATE_WINDOW_MS (the plugin's timeWindow). An error goes to the plugin, whose
 * skipOnError lets the call through.
 */
export function apiRateLimitStore(redis: Redis, nameSpace: string): FastifyRateLimitStoreCtor {
  const count = hitCounterOf(redis);
  return class extends SharedCounterStore {
    constructor() {
      super(count, nameSpace);
    }
  };
}

/** The API's window, for the plugin's timeWindow. */
export const API_RATE_WINDOW_MS = WINDOW_MS;
