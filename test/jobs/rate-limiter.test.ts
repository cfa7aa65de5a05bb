import { afterAll, describe, expect, it } from "vitest";
import { createProducerRedis, waitUntilReady } from "../../src/jobs/queues.js";
import { createRateLimiter } from "../../src/jobs/rate-limiter.js";
import { TEST_REDIS_URL, testRedisPrefix } from "../helpers/database.js";

/** The chat rate limit on the real Redis: a burst shares one pipeline, each person counted alone. */

const redis = createProducerRedis(TEST_REDIS_URL);
redis.on("error", () => undefined);
const down = createProducerRedis("redis://127.0.0.1:1");
down.on("error", () => undefined);

afterAll(() => {
  redis.disconnect();
  down.disconnect();
});

describe("chat rate limiter", () => {
  it("counts each key on its own within a burst and says when to retry", async () => {
    await waitUntilReady(redis, 10_000);
    const limit = createRateLimiter(redis, testRedisPrefix("rate_limiter"), 3);
    const keys = ["slack:U1", "slack:U1", "slack:U2", "slack:U1", "slack:U1", "slack:U1"];
    const verdicts = await Promise.all(keys.map((key) => limit.hit(key)));
    const refused = verdicts.filter((verdict) => !verdict.ok);
    expect(refused).toHaveLength(2);
    for (const verdict of refused)
      expect(verdict).toEqual({ ok: false, retryAfterSeconds: expect.any(Number) as number });
    for (const verdict of refused) if (!verdict.ok) expect(verdict.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(verdicts[2]).toEqual({ ok: true });
  });

  it("lets actions through when Redis does not answer", async () => {
    const limit = createRateLimiter(down, testRedisPrefix("rate_limiter_down"), 1);
    expect(await Promise.all([limit.hit("slack:U1"), limit.hit("slack:U1")])).toEqual([{ ok: true }, { ok: true }]);
  });
});
