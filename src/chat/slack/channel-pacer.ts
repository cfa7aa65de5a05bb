import Bottleneck from "bottleneck";
import type { Redis } from "ioredis";
import type { Logger } from "../../services/ports.js";

/**
 * Slack allows about one message per second per channel, for the app as a whole: every Sesame
 * process sending to a channel shares its pace. Each message reserves the channel's next free slot
 * in Redis (a Lua script, so two processes never take the same one, timed by Redis's own clock so
 * the processes' clocks do not matter), then waits for it. When Redis cannot answer, pacing falls
 * back to this process alone (a Bottleneck group) rather than holding messages back.
 *
 * Not Bottleneck's own Redis clustering: it keeps a limiter, a heartbeat timer and a pub/sub
 * subscription per key, i.e. per channel and per person messaged, and its jobs wait while Redis is down.
 */

export interface ChannelPacer {
  /** Runs `work` once this channel's next slot has come. */
  schedule<T>(channel: string, work: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export interface SharedPace {
  connection: Redis;
  /** Sesame's Redis key prefix: processes with the same prefix share the pace. */
  prefix: string;
}

/** Sets the channel's last slot to max(now, last + interval); returns that slot and now, in Redis's milliseconds. */
const RESERVE_SLOT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local interval = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, last + interval)
redis.call('SET', KEYS[1], slot, 'PX', slot - now + interval)
return { slot, now }
`;

/** A slot further away than this means a burst Slack would refuse anyway; Redis answering slower than this means it is in trouble. */
const REDIS_TIMEOUT_MS = 1_000;

export const paceKey = (prefix: string, channel: string): string => `${prefix}:slack-pace:${channel}`;

/** Reserves the next slot for `channel`; `slot` and `now` are Redis's clock in milliseconds. */
export async function reserveSlot(
  shared: SharedPace,
  channel: string,
  intervalMs: number,
): Promise<{ slot: number; now: number }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${REDIS_TIMEOUT_MS} ms`)), REDIS_TIMEOUT_MS);
  });
  try {
    const reply = await Promise.race([
      shared.connection.eval(RESERVE_SLOT, 1, paceKey(shared.prefix, channel), intervalMs),
      timeout,
    ]);
    const [slot, now] = reply as [number, number];
    return { slot, now };
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createChannelPacer(options: {
  intervalMs: number;
  shared?: SharedPace;
  logger: Logger;
  /** How a reserved slot is waited for (tests record it instead). */
  wait?: (ms: number) => Promise<void>;
}): ChannelPacer {
  const { intervalMs, shared, logger } = options;
  const wait = options.wait ?? sleep;
  const local = new Bottleneck.Group({ maxConcurrent: 1, minTime: intervalMs });
  let sharing = shared !== undefined;

  async function sharedSlot(channel: string): Promise<number | undefined> {
    if (!shared) return undefined;
    try {
      const { slot, now } = await reserveSlot(shared, channel, intervalMs);
      if (!sharing) logger.info({}, "Slack pacing is shared across processes again (Redis answers)");
      sharing = true;
      return slot - now;
    } catch (error) {
      if (sharing)
        logger.warn(
          { error: error instanceof Error ? error.message : String(error) },
          "Slack pacing falls back to this process alone while Redis cannot answer",
        );
      sharing = false;
      return undefined;
    }
  }

  return {
    async schedule(channel, work) {
      const delay = await sharedSlot(channel);
      if (delay === undefined) return local.key(channel).schedule(work);
      if (delay > 0) await wait(delay);
      return work();
    },
    async stop() {
      await local.disconnect(false);
    },
  };
}
