import { describe, expect, it } from "vitest";
import { extensionChoices } from "../../../src/chat/core/request-form.js";
import type { GrantRow } from "../../../src/domain/grant.js";

/** The Extend menu (Slack modal, Teams card) offers durations a person would type, never "16m59s". */

const startsAt = new Date("2026-11-22T10:00:00Z");
/** A grant that has used `usedSeconds` of its policy's total (activation took a moment, so it is rarely round). */
const used = (usedSeconds: number) =>
  ({ startsAt, expiresAt: new Date(startsAt.getTime() + usedSeconds * 1000) }) as GrantRow;

describe("extension choices", () => {
  it("rounds the room left down to whole minutes, or five minutes from a quarter of an hour up", () => {
    // 1h15m total, 1h and one second used: 14m59s of room.
    expect(extensionChoices(used(3601), 4500)).toEqual(["14m"]);
    // 2h total, 1h3m1s used: 56m59s of room.
    expect(extensionChoices(used(3781), 7200)).toEqual(["15m", "30m", "55m"]);
    // 1h17m total, 1h and one second used: 16m59s of room, offered as 15m.
    expect(extensionChoices(used(3601), 4620)).toEqual(["15m"]);
    for (const choice of extensionChoices(used(3601), 30 * 3600)) expect(choice).not.toMatch(/\d+s$/);
  });

  it("offers nothing when less than a minute is left", () => {
    expect(extensionChoices(used(3601), 3660)).toEqual([]);
  });
});
