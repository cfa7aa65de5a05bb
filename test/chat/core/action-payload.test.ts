import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { encodeAction, parseButtonValue } from "../../../src/chat/core/action-payload.js";

describe("button values", () => {
  const requestId = randomUUID();

  it("carry only ids and the version, well under Slack's 2,000 characters", () => {
    const value = encodeAction({ kind: "approve", requestId, version: 3 });
    expect(JSON.parse(value)).toEqual({ kind: "approve", requestId, version: 3 });
    expect(value.length).toBeLessThan(200);
    const extend = encodeAction({ kind: "extend", grantId: requestId, durations: ["15m", "30m", "1h"] });
    expect(JSON.parse(extend)).toEqual({ kind: "extend", grantId: requestId });
  });

  it("round-trip through parseButtonValue as text or as an object", () => {
    const value = encodeAction({ kind: "deny", requestId, version: 1 });
    expect(parseButtonValue(value)).toEqual({ kind: "deny", requestId, version: 1 });
    expect(parseButtonValue(JSON.parse(value))).toEqual({ kind: "deny", requestId, version: 1 });
  });

  it.each([
    ["a forged clicker inside the value", { kind: "approve", requestId, version: 1, userId: "U0BOSS" }],
    ["a forged approver id", { kind: "approve", requestId, version: 1, approverId: "dave" }],
    ["a request id that is not a uuid", { kind: "approve", requestId: "../../etc", version: 1 }],
    ["a missing version on a decision", { kind: "approve", requestId }],
    ["an unknown action", { kind: "grant_everything", requestId }],
    ["text that is not JSON", "approve please"],
    ["nothing", undefined],
  ])("refuses %s", (_what, value) => {
    expect(
      parseButtonValue(typeof value === "string" || value === undefined ? value : JSON.stringify(value)),
    ).toBeUndefined();
  });
});
