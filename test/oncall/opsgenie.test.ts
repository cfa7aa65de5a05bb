import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createOnCallDirectory } from "../../src/oncall/on-call-directory.js";
import { type FakeOpsgenie, startFakeOpsgenie } from "./fake-opsgenie.js";
import { OPSGENIE_API_KEY, onCallEnv, SOURCES, unavailable } from "./on-call-fixture.js";

/**
 * Opsgenie through the on-call directory, against the local fake Opsgenie (fake-opsgenie.ts): no
 * real Opsgenie can run here. Checks the Who Is On Call request, and alerts created and closed by alias.
 */

let opsgenie: FakeOpsgenie;
beforeAll(async () => {
  opsgenie = await startFakeOpsgenie({ apiKey: OPSGENIE_API_KEY });
});
afterEach(() => opsgenie.reset());
afterAll(async () => {
  await opsgenie?.close();
});

const directory = () => createOnCallDirectory(SOURCES, onCallEnv(opsgenie.url), { cacheTtlMs: 0 });
const page = {
  key: "sesame-request-7",
  summary: `Break-glass: alice took prod-db ${"!".repeat(200)}`,
  severity: "error" as const,
  details: { requester: "alice" },
};

describe("Opsgenie: who is on call", () => {
  it("asks the schedule by name, flat, with the GenieKey header, and maps recipients to people without level or end", async () => {
    opsgenie.setOnCall("Platform Primary", ["erin@example.com", "frank@example.com"]);
    expect(await directory().whoIsOnCall("platform")).toEqual([
      { email: "erin@example.com", level: null, until: null },
      { email: "frank@example.com", level: null, until: null },
    ]);
    const [request] = opsgenie.requests;
    expect(request).toMatchObject({ method: "GET", path: "/v2/schedules/Platform%20Primary/on-calls" });
    expect([request!.query.get("scheduleIdentifierType"), request!.query.get("flat")]).toEqual(["name", "true"]);
    expect(request!.headers.authorization).toBe(`GenieKey ${OPSGENIE_API_KEY}`);
  });

  it("reports a schedule Opsgenie does not know with Opsgenie's own words", async () => {
    const error = await unavailable(directory().whoIsOnCall("platform"));
    expect(error).toMatchObject({ sourceName: "platform", provider: "Opsgenie" });
    expect(error.message).toMatch(/HTTP 404 Not Found: No schedule exists with name \[Platform Primary\]/);
  });
});

describe("Opsgenie: paging with alerts", () => {
  it("creates an alert aliased by the page key, routed to the schedule, with the message cut to 130 characters", async () => {
    await directory().page("platform", page);
    const [request] = opsgenie.requests;
    expect(request).toMatchObject({ method: "POST", path: "/v2/alerts" });
    expect(request!.headers.authorization).toBe(`GenieKey ${OPSGENIE_API_KEY}`);
    expect(request!.body).toEqual({
      message: `${page.summary.slice(0, 129)}…`,
      alias: "sesame-request-7",
      description: page.summary,
      priority: "P2",
      responders: [{ type: "schedule", name: "Platform Primary" }],
      details: { requester: "alice" },
      source: "sesame",
    });
    expect(opsgenie.alerts.get("sesame-request-7")).toMatchObject({ status: "open", count: 1 });
  });

  it("maps severities to priorities P1 (critical) to P5 (info)", async () => {
    const oncall = directory();
    for (const severity of ["critical", "error", "warning", "info"] as const)
      await oncall.page("platform", { ...page, key: severity, severity });
    expect([...opsgenie.alerts.values()].map((alert) => alert.priority)).toEqual(["P1", "P2", "P3", "P5"]);
  });

  it("closes the alert by its alias", async () => {
    const oncall = directory();
    await oncall.page("platform", page);
    await oncall.page("platform", page); // a retried page: Opsgenie deduplicates it by alias
    await oncall.resolvePage("platform", "sesame-request-7");
    const close = opsgenie.requests[2]!;
    expect(close).toMatchObject({
      method: "POST",
      path: "/v2/alerts/sesame-request-7/close",
      body: { source: "sesame" },
    });
    expect(close.query.get("identifierType")).toBe("alias");
    expect(opsgenie.alerts.get("sesame-request-7")).toMatchObject({ status: "closed", count: 2 });
  });

  it("takes a 422 as final and keeps the API key out of the message even when Opsgenie echoes it", async () => {
    opsgenie.failWith(422, {
      body: JSON.stringify({ message: `Key ${OPSGENIE_API_KEY} cannot create alerts`, took: 0.01 }),
    });
    const error = await unavailable(directory().page("platform", page));
    expect(error.message).toMatch(/HTTP 422 Unprocessable Entity: Key \[redacted\] cannot create alerts/);
    expect(opsgenie.requests).toHaveLength(1);
  });

  it("refuses a page key longer than an Opsgenie alias may be, without calling Opsgenie", async () => {
    const error = await unavailable(directory().page("platform", { ...page, key: "k".repeat(513) }));
    expect(error.message).toMatch(/longer than Opsgenie's 512 characters/);
    expect(opsgenie.requests).toHaveLength(0);
  });
});
