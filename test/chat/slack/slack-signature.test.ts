import { describe, expect, it } from "vitest";
import { refusalMessage, slackSignature, verifySlackSignature } from "../../../src/chat/slack/slack-signature.js";

// Slack's published example (docs.slack.dev/authentication/verifying-requests-from-slack).
const secret = "8f742231b10e8888abcd99yyyzzz85a5";
const timestamp = "1531420618";
const body =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
const at = (seconds: number) => () => new Date(seconds * 1000);

describe("Slack request signatures", () => {
  it("computes Slack's published example", () => {
    expect(slackSignature(secret, timestamp, body)).toBe(expected);
  });

  it("accepts the example at its own time and within five minutes either way", () => {
    for (const now of [1531420618, 1531420618 - 300, 1531420618 + 300]) {
      expect(
        verifySlackSignature({ signingSecret: secret, timestamp, signature: expected, rawBody: body }, at(now)),
      ).toEqual({ ok: true });
    }
  });

  it("refuses a timestamp more than five minutes old or ahead", () => {
    for (const now of [1531420618 + 301, 1531420618 - 301]) {
      const verdict = verifySlackSignature(
        { signingSecret: secret, timestamp, signature: expected, rawBody: body },
        at(now),
      );
      expect(verdict).toMatchObject({ ok: false, reason: expect.stringContaining("301 s") });
    }
  });

  it("calls a timestamp outside the window stale and points at the clock, not at the signature", () => {
    const refuse = (now: number, changes = {}) => {
      const verdict = verifySlackSignature(
        { signingSecret: secret, timestamp, signature: expected, rawBody: body, ...changes },
        at(now),
      );
      if (verdict.ok) throw new Error("expected a refusal");
      return refusalMessage(verdict);
    };
    const stale = refuse(1531420618 + 400);
    expect(stale).toMatch(/X-Slack-Request-Timestamp is stale: it is 400 s away from Sesame's clock/);
    expect(stale).toMatch(/check this server's clock/);
    expect(stale).not.toMatch(/not signed/);
    expect(refuse(1531420618, { signingSecret: "0".repeat(32) })).toMatch(/not signed by Slack/);
  });

  it("refuses another secret, a changed body, and missing or malformed headers", () => {
    const check = (changes: Partial<Parameters<typeof verifySlackSignature>[0]>) =>
      verifySlackSignature(
        { signingSecret: secret, timestamp, signature: expected, rawBody: body, ...changes },
        at(1531420618),
      ).ok;
    expect(check({ signingSecret: "0".repeat(32) })).toBe(false);
    expect(check({ rawBody: body.replace("roadrunner", "coyote") })).toBe(false);
    expect(check({ signature: undefined })).toBe(false);
    expect(check({ signature: "v1=abc" })).toBe(false);
    expect(check({ signature: `${expected.slice(0, -1)}0` })).toBe(false);
    expect(check({ timestamp: undefined })).toBe(false);
    expect(check({ timestamp: "soon" })).toBe(false);
  });
});
