import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postSigned, SIGNING_SECRET, slashCommandBody } from "../chat/slack/slack-requests.js";
import { type SlackStandIn, startSlackStandIn } from "../chat/slack/slack-web-api-stand-in.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";

/**
 * SESAME_RATE_LIMIT per identity over the API (429 with Retry-After) and per person in Slack (a
 * clear ephemeral answer, nothing stored), and the policy's maxPendingPerRequester. Slack is a
 * local Web API stand-in.
 */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com, name: Alice, slack: U0ALICE }
  - { id: bob, email: bob@example.com, name: Bob, slack: U0BOB }
  - { id: carol, email: carol@example.com, name: Carol, slack: U0CAROL }
connectors:
  demo: { type: noop, config: {} }
resources:
  demo: { connector: demo, principal: "{{ id }}" }
policies:
  - id: demo
    resources: [demo]
    requesters: { users: [alice, carol] }
    duration: { default: 30m, max: 2h }
    reason: { required: false }
    approvers: { users: [bob] }
    maxPendingPerRequester: 2
`;

let slack: SlackStandIn;
let sesame: TestSesame;

beforeAll(async () => {
  slack = await startSlackStandIn();
  sesame = await startSesame("rate_limits", {
    policy,
    identities: ["alice", "bob", "carol"],
    env: {
      SESAME_RATE_LIMIT: "6",
      SLACK_BOT_TOKEN: "xoxb-test-token",
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
    },
  });
});

afterAll(async () => {
  await sesame?.stop();
  await slack?.close();
});

describe("rate limits and the pending cap", () => {
  it("refuses a requester's third pending request under a policy with maxPendingPerRequester: 2", async () => {
    for (let i = 0; i < 2; i += 1)
      expect((await sesame.api("carol", "POST", "/api/v1/requests", { resource: "demo" })).status).toBe(201);
    const third = await sesame.api("carol", "POST", "/api/v1/requests", { resource: "demo" });
    expect(third.status).toBe(422);
    expect(third.body.error.message).toMatch(/already have 2 request\(s\) waiting.*Nothing was requested/);
    expect(await sesame.runtime.db.accessRequest.count({ where: { requesterId: "carol" } })).toBe(2);
  });

  it("answers 429 with Retry-After once an identity passes SESAME_RATE_LIMIT a minute; others go on", async () => {
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<TestSesame["api"]>> | undefined;
    for (let i = 0; i < 8; i += 1) {
      const response = await sesame.api("bob", "GET", "/api/v1/requests");
      statuses.push(response.status);
      if (response.status === 429) limited ??= response;
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(6);
    expect(limited?.body.error).toMatchObject({ code: "rate_limited" });
    expect(limited?.body.error.message).toMatch(/at most 6 a minute per identity/);
    expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await sesame.api("alice", "GET", "/api/v1/requests")).status).toBe(200);
  });

  it("tells a Slack user who goes too fast, in the command's own answer, and stores nothing", async () => {
    const replies = [];
    for (let i = 0; i < 8; i += 1)
      replies.push(
        await postSigned(
          sesame.baseUrl,
          slashCommandBody("U0ALICE", "help", slack.responseUrl(`fast${i}`)),
          "application/x-www-form-urlencoded",
        ),
      );
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const refused = replies.filter((r) => r.json?.response_type === "ephemeral");
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]!.json.text).toMatch(
      /faster than Sesame allows \(6 actions a minute per person\).*try again in \d+ s/,
    );
    const stored = await sesame.runtime.db.chatIntake.count({ where: { platform: "slack" } });
    expect(stored).toBe(8 - refused.length);
  });
});
