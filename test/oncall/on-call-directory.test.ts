import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createOnCallDirectory } from "../../src/oncall/on-call-directory.js";
import { type FakeOpsgenie, startFakeOpsgenie } from "./fake-opsgenie.js";
import { type FakePagerDuty, startFakePagerDuty } from "./fake-pagerduty.js";
import { onCallEnv, PD_API_TOKEN, SOURCES, unavailable } from "./on-call-fixture.js";

/**
 * The directory itself: caching, and every kind of failure becoming OnCallUnavailableError fast
 * and without a secret. Against the local fakes (fake-pagerduty.ts, fake-opsgenie.ts): no real
 * PagerDuty or Opsgenie can run here.
 */

let pd: FakePagerDuty;
let opsgenie: FakeOpsgenie;
beforeAll(async () => {
  [pd, opsgenie] = await Promise.all([startFakePagerDuty({ apiToken: PD_API_TOKEN }), startFakeOpsgenie()]);
});
afterEach(() => {
  pd.reset();
  opsgenie.reset();
});
afterAll(async () => {
  await Promise.all([pd?.close(), opsgenie?.close()]);
});

/** A clock the test moves by hand. */
function clock(start = "2026-03-02T08:00:00Z") {
  let time = new Date(start).getTime();
  return {
    now: () => new Date(time),
    advance: (ms: number) => {
      time += ms;
    },
  };
}

const alice = { email: "alice@example.com", schedule: "PSCHED1", end: "2026-03-02T09:00:00Z" };

describe("on-call directory: caching", () => {
  it("answers from the cache within the TTL and asks again after it", async () => {
    const time = clock();
    const oncall = createOnCallDirectory(SOURCES, onCallEnv(pd.url), { cacheTtlMs: 60_000, now: time.now });
    pd.setOnCall([alice]);
    await oncall.whoIsOnCall("db-primary");
    pd.setOnCall([{ ...alice, email: "bob@example.com" }]);
    time.advance(59_000);
    expect((await oncall.whoIsOnCall("db-primary")).map((person) => person.email)).toEqual(["alice@example.com"]);
    time.advance(1_000);
    expect((await oncall.whoIsOnCall("db-primary")).map((person) => person.email)).toEqual(["bob@example.com"]);
    expect(pd.requests).toHaveLength(2);
  });

  it("never serves a shift from the cache after it ended", async () => {
    const time = clock("2026-03-02T08:59:30Z");
    const oncall = createOnCallDirectory(SOURCES, onCallEnv(pd.url), { cacheTtlMs: 60_000, now: time.now });
    pd.setOnCall([alice]);
    await oncall.whoIsOnCall("db-primary");
    time.advance(30_000); // 09:00: alice's shift is over, well within the TTL
    await oncall.whoIsOnCall("db-primary");
    expect(pd.requests).toHaveLength(2);
  });

  it("does not cache a failure: the next look-up asks again", async () => {
    const oncall = createOnCallDirectory(SOURCES, onCallEnv(pd.url));
    pd.setOnCall([alice]);
    pd.failWith(500, { times: 1 });
    await unavailable(oncall.whoIsOnCall("db-primary"));
    expect((await oncall.whoIsOnCall("db-primary")).map((person) => person.email)).toEqual(["alice@example.com"]);
    expect(pd.requests).toHaveLength(2);
  });

  it("shares one request between concurrent look-ups, and hands each caller its own copy", async () => {
    const oncall = createOnCallDirectory(SOURCES, onCallEnv(pd.url));
    pd.setOnCall([alice]);
    const [first, second] = await Promise.all([oncall.whoIsOnCall("db-primary"), oncall.whoIsOnCall("db-primary")]);
    expect(pd.requests).toHaveLength(1);
    first![0]!.email = "mallory@example.com";
    expect(second![0]!.email).toBe("alice@example.com");
    expect((await oncall.whoIsOnCall("db-primary"))[0]!.email).toBe("alice@example.com");
  });
});

describe("on-call directory: failures are OnCallUnavailableError, fast and without secrets", () => {
  // Fast means one attempt, bounded by the timeout: a look-up is never retried (the next one asks
  // again). Only the case about the timeout uses a tiny one; the others get a generous one, so a
  // busy machine cannot turn their answer into a timeout.
  const directory = (timeoutMs: number) => createOnCallDirectory(SOURCES, onCallEnv(pd.url), { timeoutMs });
  const GENEROUS_MS = 30_000;
  const cases: [string, () => void, RegExp, number][] = [
    [
      "HTTP 500",
      () => pd.failWith(500),
      /PagerDuty could not say who is on call for "db-primary": it answered HTTP 500 Internal Server Error/,
      GENEROUS_MS,
    ],
    ["no answer (timeout)", () => pd.hang(), /no answer within 0\.3 s/, 300],
    ["a body that is not JSON", () => pd.answerGarbage(), /something other than JSON/, GENEROUS_MS],
    [
      "JSON of the wrong shape",
      () =>
        pd.answerGarbage({
          body: JSON.stringify({ oncalls: [{ escalation_level: 1, user: { id: "PU1" }, end: null }], more: false }),
        }),
      /JSON Sesame does not understand \(oncalls\.0\.user\.email/,
      GENEROUS_MS,
    ],
    [
      "a wrong API key (401)",
      () =>
        pd.failWith(401, { body: JSON.stringify({ error: { message: `Unauthorized: Token token=${PD_API_TOKEN}` } }) }),
      /HTTP 401 Unauthorized: Unauthorized: Token token=\[redacted\]/,
      GENEROUS_MS,
    ],
  ];

  it.each(cases)("%s", async (_name, misbehave, reason, timeoutMs) => {
    misbehave();
    const error = await unavailable(directory(timeoutMs).whoIsOnCall("db-primary"));
    expect(error).toMatchObject({ sourceName: "db-primary", provider: "PagerDuty" });
    expect(error.message).toMatch(reason);
    // One attempt, no retry: an answered look-up was asked exactly once. (A request given up on
    // after 0.3 s may not even have been read by the fake yet.)
    if (timeoutMs === GENEROUS_MS) expect(pd.requests).toHaveLength(1);
    else expect(pd.requests.length).toBeLessThanOrEqual(1);
  });

  it("a provider nobody listens on", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const error = await unavailable(createOnCallDirectory(SOURCES, onCallEnv(url)).whoIsOnCall("db-primary"));
    expect(error.message).toMatch(/cannot reach it \(connection refused\)/);
  });

  it("a key missing from the environment, without calling the provider", async () => {
    const oncall = createOnCallDirectory(
      SOURCES,
      onCallEnv(pd.url, {
        PAGERDUTY_API_TOKEN: undefined,
        PAGERDUTY_ROUTING_KEY: undefined,
        OPSGENIE_API_KEY: undefined,
      }),
    );
    expect((await unavailable(oncall.whoIsOnCall("db-primary"))).message).toMatch(/PAGERDUTY_API_TOKEN is not set/);
    expect(
      (await unavailable(oncall.page("db-primary", { key: "k", summary: "s", severity: "info", details: {} }))).message,
    ).toMatch(/PAGERDUTY_ROUTING_KEY is not set/);
    expect((await unavailable(oncall.whoIsOnCall("platform"))).message).toMatch(
      /Opsgenie could not say .*OPSGENIE_API_KEY is not set/,
    );
    expect([pd.requests.length, opsgenie.requests.length]).toEqual([0, 0]);
  });

  it("a source the policy does not define", async () => {
    const error = await unavailable(createOnCallDirectory(SOURCES, onCallEnv(pd.url)).whoIsOnCall("toString"));
    expect(error).toMatchObject({ sourceName: "toString" });
    expect(error.message).toMatch(/no on-call source of that name/);
  });
});
