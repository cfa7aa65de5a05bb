import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatModes } from "../../../src/config/chat-env.js";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";
import { WAIT_MS } from "../../helpers/wait.js";
import { postSigned, SIGNING_SECRET, slashCommandBody } from "./slack-requests.js";
import { type SlackStandIn, startSlackStandIn } from "./slack-web-api-stand-in.js";

/** /slack/events: only correctly signed, fresh requests reach Bolt; Socket Mode mounts no endpoint. */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com, slack: U0ALICE }
  - { id: bob, email: bob@example.com }
connectors:
  demo: { type: noop, config: {} }
resources:
  demo-admin: { connector: demo, principal: "{{ id }}" }
policies:
  - id: demo
    resources: [demo-admin]
    requesters: { everyone: true }
    duration: { default: 30m, max: 2h }
    approvers: { users: [bob] }
`;

let slack: SlackStandIn;
let sesame: TestSesame;

beforeAll(async () => {
  slack = await startSlackStandIn();
  sesame = await startSesame("slack_transport", {
    policy,
    identities: ["alice"],
    env: { SLACK_BOT_TOKEN: "xoxb-test-token", SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl },
  });
});

afterAll(async () => {
  await sesame?.stop();
  await slack?.close();
});

const command = () => slashCommandBody("U0ALICE", "help", slack.responseUrl("help"));

describe("POST /slack/events", () => {
  it("answers a correctly signed slash command and replies through its response_url", async () => {
    const reply = await postSigned(sesame.baseUrl, command(), "application/x-www-form-urlencoded");
    expect(reply.status).toBe(200);
    await expect.poll(() => slack.callsTo("response_url").length, { timeout: WAIT_MS }).toBe(1);
    expect(slack.callsTo("response_url")[0]!.params).toMatchObject({
      response_type: "ephemeral",
      text: expect.stringContaining("/request-access list"),
    });
  });

  it("refuses a wrong signature, a stale timestamp and a future one before any handler runs", async () => {
    const refused = () => slashCommandBody("U0ALICE", "help", slack.responseUrl("refused"));
    // Sesame's clock stands still, so 301 s either way stays 301 s however long each request takes.
    const now = Math.floor(sesame.clock.freeze().getTime() / 1000);
    try {
      const forged = await postSigned(sesame.baseUrl, refused(), "application/x-www-form-urlencoded", {
        secret: "0123456789abcdef0123456789abcdef",
        timestamp: now,
      });
      const stale = await postSigned(sesame.baseUrl, refused(), "application/x-www-form-urlencoded", {
        timestamp: now - 301,
      });
      const future = await postSigned(sesame.baseUrl, refused(), "application/x-www-form-urlencoded", {
        timestamp: now + 301,
      });
      const unsigned = await fetch(`${sesame.baseUrl}/slack/events`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: refused(),
      });
      expect([forged.status, stale.status, future.status, unsigned.status]).toEqual([401, 401, 401, 401]);
      expect(forged.text).not.toContain(SIGNING_SECRET);
      expect([stale.text, future.text]).toEqual([expect.stringMatching(/stale/), expect.stringMatching(/stale/)]);
      // At the edge of the window (exactly 300 s away) a request is still taken.
      const edge = await postSigned(
        sesame.baseUrl,
        slashCommandBody("U0ALICE", "help", slack.responseUrl("edge")),
        "application/x-www-form-urlencoded",
        { timestamp: now - 300 },
      );
      expect(edge.status).toBe(200);
    } finally {
      sesame.clock.reset();
    }
    // The edge request was sent after the refused ones and its handler has answered: had any of
    // them reached a handler, its reply would be there too. No fixed sleep needed.
    await expect
      .poll(() => slack.calls.filter((call) => call.path === "/respond/edge").length, { timeout: WAIT_MS })
      .toBe(1);
    expect(slack.calls.filter((call) => call.path === "/respond/refused")).toEqual([]);
  });

  it("answers Slack's url_verification challenge", async () => {
    const reply = await postSigned(
      sesame.baseUrl,
      JSON.stringify({
        token: "x",
        challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        type: "url_verification",
      }),
      "application/json",
    );
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" });
  });

  it("refuses a signed body that is not a Slack payload", async () => {
    expect((await postSigned(sesame.baseUrl, "{not json", "application/json")).status).toBe(400);
  });

  it("leaves the REST API's JSON parsing alone", async () => {
    const created = await sesame.api("alice", "POST", "/api/v1/requests", {
      resource: "demo-admin",
      duration: "30m",
      reason: "checking",
    });
    expect(created.body).toMatchObject({ resource: "demo-admin", status: "pending" });
    expect(created.status).toBe(201);
  });
});

describe("Socket Mode", () => {
  it("is chosen when SLACK_APP_TOKEN is set, and then /slack/events is not mounted", async () => {
    const env = { SLACK_BOT_TOKEN: "xoxb-test-token", SLACK_APP_TOKEN: "xapp-1-test", SLACK_API_URL: slack.apiUrl };
    expect(chatModes({ ...sesame.runtime.env, ...env, SLACK_SIGNING_SECRET: undefined }).slack.kind).toBe("socket");
    // The stand-in refuses apps.connections.open: Sesame logs it and keeps serving.
    slack.failNext("apps.connections.open", { status: 200, body: { ok: false, error: "invalid_auth" } });
    const socket = await startSesame("slack_socket", { policy, identities: ["alice"], env, role: "web" });
    try {
      const reply = await postSigned(socket.baseUrl, command(), "application/x-www-form-urlencoded");
      expect(reply.status).toBe(404);
      expect((await fetch(`${socket.baseUrl}/healthz`)).status).toBe(200);
    } finally {
      await socket.stop();
    }
  });
});
