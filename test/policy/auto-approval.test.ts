import { describe, expect, it } from "vitest";
import type { z } from "zod";
import type { AutoApproveRuleSchema, TimeWindow } from "../../src/domain/policy/policy-schema.js";
import { isValidTimeZone, isWithinTimeWindow } from "../../src/domain/policy/time-window.js";
import { makeBook, TUESDAY_10_UTC } from "./fixture.js";

const window = (partial: Partial<TimeWindow> & Pick<TimeWindow, "start" | "end">): TimeWindow => ({
  days: ["mon", "tue", "wed", "thu", "fri"],
  timezone: "UTC",
  ...partial,
});

describe("time windows", () => {
  const office = window({ start: "09:00", end: "18:00", timezone: "Europe/Paris" });

  it.each([
    ["2025-03-04T07:59:00Z", false], // Tue 08:59 in Paris (UTC+1)
    ["2025-03-04T08:00:00Z", true], // Tue 09:00: start is inclusive
    ["2025-03-04T16:59:00Z", true],
    ["2025-03-04T17:00:00Z", false], // Tue 18:00: end is exclusive
    ["2025-07-01T07:00:00Z", true], // summer time: Tue 09:00 CEST (UTC+2)
    ["2025-07-01T16:30:00Z", false], // Tue 18:30 CEST, though still 17:30 at UTC+1
    ["2025-03-08T10:00:00Z", false], // Saturday
  ])("Europe/Paris office hours at %s: %s", (at, expected) => {
    expect(isWithinTimeWindow(office, new Date(at))).toBe(expected);
  });

  it("uses the weekday of the window's zone, not of UTC", () => {
    const aucklandMonday = window({ days: ["mon"], start: "09:00", end: "17:00", timezone: "Pacific/Auckland" });
    // Sunday 21:00 UTC is Monday 10:00 in Auckland (UTC+13 in March).
    expect(isWithinTimeWindow(aucklandMonday, new Date("2025-03-02T21:00:00Z"))).toBe(true);
    expect(isWithinTimeWindow(aucklandMonday, new Date("2025-03-03T10:00:00Z"))).toBe(false);
  });

  it("handles half-hour offsets", () => {
    const kolkata = window({ start: "09:00", end: "17:00", timezone: "Asia/Kolkata" });
    expect(isWithinTimeWindow(kolkata, new Date("2025-03-04T03:29:00Z"))).toBe(false);
    expect(isWithinTimeWindow(kolkata, new Date("2025-03-04T03:30:00Z"))).toBe(true);
  });

  describe("a window crossing midnight belongs to the day it starts on", () => {
    const fridayNight = window({ days: ["fri"], start: "22:00", end: "06:00" });
    it.each([
      ["2025-03-07T21:59:00Z", false], // Fri 21:59
      ["2025-03-07T23:00:00Z", true], // Fri 23:00
      ["2025-03-08T00:00:00Z", true], // Sat 00:00
      ["2025-03-08T05:59:00Z", true], // Sat 05:59
      ["2025-03-08T06:00:00Z", false], // Sat 06:00
      ["2025-03-08T23:00:00Z", false], // Sat 23:00: Saturday is not a start day
      ["2025-03-07T02:00:00Z", false], // Fri 02:00 belongs to Thursday's night
    ])("%s: %s", (at, expected) => {
      expect(isWithinTimeWindow(fridayNight, new Date(at))).toBe(expected);
    });

    it("in a zone other than UTC", () => {
      const tokyoNights = window({ days: ["sun"], start: "23:00", end: "01:00", timezone: "Asia/Tokyo" });
      // Sunday 23:30 and Monday 00:30 in Tokyo (UTC+9).
      expect(isWithinTimeWindow(tokyoNights, new Date("2025-03-09T14:30:00Z"))).toBe(true);
      expect(isWithinTimeWindow(tokyoNights, new Date("2025-03-09T15:30:00Z"))).toBe(true);
      expect(isWithinTimeWindow(tokyoNights, new Date("2025-03-09T16:00:00Z"))).toBe(false);
    });
  });

  it("recognises IANA zones", () => {
    expect(isValidTimeZone("Europe/Paris")).toBe(true);
    expect(isValidTimeZone("UTC")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus_Mons")).toBe(false);
  });
});

describe("auto-approval rules", () => {
  const request = { requesterId: "alice", resourceId: "prod-db", reason: "look", ticket: "OPS-1" };
  const bookWithRules = (rules: Array<z.input<typeof AutoApproveRuleSchema>>) =>
    makeBook((input) => {
      input.policies[0]!.autoApprove = rules;
    });

  it("applies the first rule whose every condition holds", () => {
    const book = bookWithRules([
      { reason: "high risk only for dbas", requesterInGroup: "dba", resourceRisk: "high" },
      {
        reason: "SRE on weekdays",
        requesterInGroup: "sre",
        withinTimeWindow: window({ start: "08:00", end: "20:00" }),
      },
      { reason: "any SRE", requesterInGroup: "sre" },
    ]);
    const tuesday = new Date("2025-03-04T10:00:00Z");
    expect(book.evaluateRequest(request, tuesday).autoApproval).toEqual({ reason: "SRE on weekdays" });
    const sunday = new Date("2025-03-09T10:00:00Z");
    expect(book.evaluateRequest(request, sunday).autoApproval).toEqual({ reason: "any SRE" });
  });

  it("matches on resource risk", () => {
    const book = bookWithRules([{ reason: "low risk", resourceRisk: "low" }]);
    expect(book.evaluateRequest(request, TUESDAY_10_UTC).autoApproval).toBeNull();
    const demo = makeBook((input) => {
      input.policies[3]!.autoApprove = [{ reason: "low risk", resourceRisk: "low" }];
    });
    expect(demo.evaluateRequest({ requesterId: "bob", resourceId: "demo-admin" }, TUESDAY_10_UTC).autoApproval).toEqual(
      {
        reason: "low risk",
      },
    );
  });

  it("honours maxDuration against the requested (or default) duration", () => {
    const book = bookWithRules([{ reason: "short SRE access", requesterInGroup: "sre", maxDuration: "1h" }]);
    const now = new Date("2025-03-04T10:00:00Z");
    expect(book.evaluateRequest(request, now).autoApproval).toEqual({ reason: "short SRE access" });
    expect(book.evaluateRequest({ ...request, durationSeconds: 3600 }, now).autoApproval).not.toBeNull();
    expect(book.evaluateRequest({ ...request, durationSeconds: 3601 }, now).autoApproval).toBeNull();
  });

  it("does not auto-approve someone outside the group", () => {
    const book = bookWithRules([{ reason: "dba", requesterInGroup: "dba" }]);
    expect(book.evaluateRequest(request, TUESDAY_10_UTC).autoApproval).toBeNull();
  });
});
