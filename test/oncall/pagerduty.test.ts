import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createOnCallDirectory } from "../../src/oncall/on-call-directory.js";
import { type FakeOnCallEntry, type FakePagerDuty, startFakePagerDuty } from "./fake-pagerduty.js";
import { onCallEnv, PD_API_TOKEN, PD_ROUTING_KEY, recordingSleep, SOURCES, unavailable } from "./on-call-fixture.js";

/**
 * PagerDuty through the on-call directory, against the local fake PagerDuty (fake-pagerduty.ts):
 * no real PagerDuty can run here. Checks what is sent (filters, headers, events) and how answers map.
 */

let pd: FakePagerDuty;
beforeAll(async () => {
  pd = await startFakePagerDuty({ apiToken: PD_API_TOKEN, routingKey: PD_ROUTING_KEY });
});
afterEach(() => pd.reset());
afterAll(async () => {
  await pd?.close();
});

const directory = (options: Parameters<typeof createOnCallDirectory>[2] = {}) =>
  createOnCallDirectory(SOURCES, onCallEnv(pd.url), { cacheTtlMs: 0, ...options });

const TEAM: FakeOnCallEntry[] = [
  { email: "alice@example.com", level: 1, schedule: "PSCHED1", escalationPolicy: "PEP1", end: "2026-03-02T09:00:00Z" },
  { email: "bob@example.com", level: 2, schedule: "PSCHED2", escalationPolicy: "PEP1", end: "2026-03-03T09:00:00Z" },
  { email: "carol@example.com", level: 1, schedule: "PSCHED9", escalationPolicy: "PEP9", end: null },
];

describe("PagerDuty: who is on call", () => {
  it("asks for the schedule's primary only, with the documented headers and query", async () => {
    pd.setOnCall(TEAM);
    expect(await directory().whoIsOnCall("db-primary")).toEqual([
      { email: "alice@example.com", level: 1, until: new Date("2026-03-02T09:00:00Z") },
    ]);
    const [request] = pd.requests;
    expect(request).toMatchObject({ method: "GET", path: "/oncalls" });
    expect(request!.headers).toMatchObject({
      authorization: `Token token=${PD_API_TOKEN}`,
      accept: "application/vnd.pagerduty+json;version=2",
    });
    const query = request!.query;
    expect([query.getAll("schedule_ids[]"), query.getAll("escalation_levels[]"), query.getAll("include[]")]).toEqual([
      ["PSCHED1"],
      ["1"],
      ["users"],
    ]);
    expect([query.get("time_zone"), query.get("earliest"), query.has("escalation_policy_ids[]")]).toEqual([
      "UTC",
      "true",
      false,
    ]);
  });

  it("asks an escalation policy for its secondary by level", async () => {
    pd.setOnCall(TEAM);
    expect(await directory().whoIsOnCall("db-secondary")).toEqual([
      { email: "bob@example.com", level: 2, until: new Date("2026-03-03T09:00:00Z") },
    ]);
    const query = pd.requests[0]!.query;
    expect([
      query.getAll("escalation_policy_ids[]"),
      query.getAll("escalation_levels[]"),
      query.has("schedule_ids[]"),
    ]).toEqual([["PEP1"], ["2"], false]);
  });

  it("lists every level of an escalation policy when the source names no level", async () => {
    pd.setOnCall(TEAM);
    const people = await directory().whoIsOnCall("db-policy");
    expect(people.map((person) => [person.email, person.level])).toEqual([
      ["alice@example.com", 1],
      ["bob@example.com", 2],
    ]);
    expect(pd.requests[0]!.query.has("escalation_levels[]")).toBe(false);
  });

  it("follows pagination until PagerDuty says there is no more", async () => {
    pd.setOnCall(
      Array.from({ length: 230 }, (_, index) => ({
        email: `person${index}@example.com`,
        schedule: "PSCHED1",
        escalationPolicy: "PEP1",
      })),
    );
    const people = await directory().whoIsOnCall("db-primary");
    expect(people).toHaveLength(230);
    expect(people[229]!.email).toBe("person229@example.com");
    expect(pd.requests.map((request) => request.query.get("offset"))).toEqual(["0", "100", "200"]);
  });

  it("reads a shift's end as a Date, and a shift without an end as null", async () => {
    pd.setOnCall([
      { email: "alice@example.com", schedule: "PSCHED1", end: "2026-03-02T09:30:00-05:00" },
      { email: "dave@example.com", schedule: "PSCHED1", end: null },
    ]);
    const until = (await directory().whoIsOnCall("db-primary")).map((person) => person.until);
    expect(until).toEqual([new Date("2026-03-02T14:30:00Z"), null]);
  });

  it("lists a person once when two escalation policies use the same schedule", async () => {
    pd.setOnCall([
      { email: "alice@example.com", schedule: "PSCHED1", escalationPolicy: "PEP1" },
      { email: "alice@example.com", schedule: "PSCHED1", escalationPolicy: "PEP2" },
    ]);
    expect(await directory().whoIsOnCall("db-primary")).toEqual([
      { email: "alice@example.com", level: 1, until: null },
    ]);
  });
});

describe("PagerDuty: paging through Events API v2", () => {
  const page = {
    key: "sesame-request-42",
    summary: "x".repeat(1500),
    severity: "critical" as const,
    details: { requester: "alice", resource: "prod-db" },
  };

  it("triggers and resolves with the same dedup_key", async () => {
    const oncall = directory();
    await oncall.page("db-primary", page);
    expect(pd.openIncidents()).toEqual(["sesame-request-42"]);
    await oncall.resolvePage("db-primary", "sesame-request-42");
    expect(pd.openIncidents()).toEqual([]);
    expect(pd.requests.map((request) => [request.method, request.path])).toEqual([
      ["POST", "/v2/enqueue"],
      ["POST", "/v2/enqueue"],
    ]);
    const [trigger, resolve] = pd.events;
    expect(trigger).toEqual({
      routing_key: PD_ROUTING_KEY,
      event_action: "trigger",
      dedup_key: "sesame-request-42",
      payload: {
        summary: `${"x".repeat(1023)}…`,
        source: "sesame",
        severity: "critical",
        custom_details: page.details,
      },
    });
    expect(resolve).toEqual({ routing_key: PD_ROUTING_KEY, event_action: "resolve", dedup_key: "sesame-request-42" });
  });

  it("retries a 429 after the Retry-After PagerDuty asked for", async () => {
    const { waits, sleep } = recordingSleep();
    pd.failWith(429, { retryAfter: 2, times: 1 });
    await directory({ sleep }).page("db-primary", page);
    expect(waits).toEqual([2000]);
    expect(pd.requests).toHaveLength(2);
    expect(pd.events.map((event) => event.dedup_key)).toEqual(["sesame-request-42"]);
  });

  it("gives up on a 429 whose Retry-After is beyond its time bound, without waiting", async () => {
    const { waits, sleep } = recordingSleep();
    pd.failWith(429, { retryAfter: 3600, times: 1 });
    const error = await unavailable(directory({ sleep }).page("db-primary", page));
    expect(error.message).toMatch(/HTTP 429 Too Many Requests \(asked to retry after 3600\)/);
    expect([waits, pd.requests.length]).toEqual([[], 1]);
  });

  it("retries a 500 a couple of times, then reports the page as failed", async () => {
    const { waits, sleep } = recordingSleep();
    pd.failWith(500);
    const error = await unavailable(directory({ sleep }).page("db-primary", page));
    expect(error).toMatchObject({ sourceName: "db-primary", provider: "PagerDuty" });
    expect(error.message).toMatch(/HTTP 500 Internal Server Error/);
    expect([waits.length, pd.requests.length]).toEqual([2, 3]);
  });

  it("takes a 400 as final, and keeps the routing key out of the message even when PagerDuty echoes it", async () => {
    pd.failWith(400, {
      body: JSON.stringify({
        status: "invalid event",
        message: "Event object is invalid",
        errors: [`unknown routing_key ${PD_ROUTING_KEY}`],
      }),
    });
    const error = await unavailable(directory().resolvePage("db-primary", "sesame-request-42"));
    expect(error.message).toMatch(/HTTP 400 Bad Request: Event object is invalid; unknown routing_key \[redacted\]/);
    expect(pd.requests).toHaveLength(1);
  });
});
