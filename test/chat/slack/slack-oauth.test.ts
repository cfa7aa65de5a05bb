import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatAdapter } from "../../../src/chat/core/chat-adapter.js";
import { createSlackInstallationStore } from "../../../src/storage/slack-installation-repository.js";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";
import { waitFor } from "../../helpers/wait.js";
import { postSigned, SIGNING_SECRET, slashCommandBody } from "./slack-requests.js";
import { type SlackStandIn, startSlackStandIn } from "./slack-web-api-stand-in.js";

/** Multi-workspace mode: /slack/install → Slack consent → /slack/oauth_redirect → a sealed installation that serves that workspace. */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com, name: Alice }
connectors:
  demo: { type: noop, config: {} }
resources:
  demo: { connector: demo, principal: "{{ id }}" }
policies:
  - id: demo
    resources: [demo]
    requesters: { users: [alice] }
    duration: { default: 30m, max: 2h }
    approvers: { users: [alice] }
    selfApproval: true
`;

const INSTALLED_TOKEN = "xoxb-installed-secret-token";
let slack: SlackStandIn;
let sesame: TestSesame;

beforeAll(async () => {
  slack = await startSlackStandIn();
  slack.users.set("U0OTHERALICE", "alice@example.com");
  sesame = await startSesame("slack_oauth", {
    policy,
    identities: ["alice"],
    env: {
      SLACK_CLIENT_ID: "1234567890.0987654321",
      SLACK_CLIENT_SECRET: "client-secret-0123456789",
      SLACK_STATE_SECRET: "state-secret-0123456789abcdef",
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SESAME_PUBLIC_URL: "https://sesame.example.com",
      SLACK_ALLOWED_WORKSPACES: "T0OTHER",
      SLACK_API_URL: slack.apiUrl,
    },
  });
});

afterAll(async () => {
  await sesame?.stop();
  await slack?.close();
});

const slackAdapter = (): ChatAdapter => sesame.runtime.chat.adapters.find((adapter) => adapter.platform === "slack")!;

describe("Slack OAuth install", () => {
  it("installs a workspace: redirect to Slack, callback, installation stored sealed, then served with its own token", async () => {
    const install = await fetch(`${sesame.baseUrl}/slack/install`, { redirect: "manual" });
    expect(install.status).toBe(302);
    const location = new URL(install.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe("https://slack.com/oauth/v2/authorize");
    expect(location.searchParams.get("client_id")).toBe("1234567890.0987654321");
    expect(location.searchParams.get("scope")).toBe("commands,chat:write,users:read,users:read.email");
    expect(location.searchParams.get("redirect_uri")).toBe("https://sesame.example.com/slack/oauth_redirect");
    const state = location.searchParams.get("state")!;
    const cookie = install.headers.get("set-cookie")!.split(";")[0]!;

    const callback = await fetch(
      `${sesame.baseUrl}/slack/oauth_redirect?code=temporary-code&state=${encodeURIComponent(state)}`,
      { headers: { cookie }, redirect: "manual" },
    );
    expect(callback.status).toBe(200);
    expect(slack.callsTo("oauth.v2.access")).toHaveLength(1);

    const rows = await sesame.runtime.db.slackInstallation.findMany();
    expect(rows.map((row) => row.key)).toEqual(["TT0OTHER"]);
    expect(rows[0]!.sealed).not.toContain(INSTALLED_TOKEN);
    const store = createSlackInstallationStore(sesame.runtime.db, sesame.runtime.deps.secrets, ["T0OTHER"]);
    const installation = await store.fetchInstallation({
      teamId: "T0OTHER",
      enterpriseId: undefined,
      isEnterpriseInstall: false,
    });
    expect(installation.bot?.token).toBe(INSTALLED_TOKEN);

    // A command from that workspace is answered with its installation's token.
    const reply = await postSigned(
      sesame.baseUrl,
      slashCommandBody("U0OTHERALICE", "help", slack.responseUrl("oauth-help"), "T0OTHER"),
      "application/x-www-form-urlencoded",
    );
    expect(reply.status).toBe(200);
    await waitFor(async () => slack.callsTo("response_url").length === 1, "help reply");
    expect(slack.callsTo("users.info").at(-1)!.token).toBe(INSTALLED_TOKEN);
  });

  it("reaches people in the workspace they use Sesame from", async () => {
    const address = await slackAdapter().post(
      { identityId: "alice" },
      { title: "hello", facts: [], notes: [], actions: [], actionableBy: [] },
    );
    expect(address).toMatchObject({ workspace: "TT0OTHER", channel: "D0OTHERALICE", user: "U0OTHERALICE" });
    expect(slack.callsTo("chat.postMessage").at(-1)!.token).toBe(INSTALLED_TOKEN);
  });

  it("refuses a callback with a forged state and stores nothing", async () => {
    const callback = await fetch(`${sesame.baseUrl}/slack/oauth_redirect?code=x&state=forged`, { redirect: "manual" });
    expect(callback.status).toBeGreaterThanOrEqual(400);
    expect(await sesame.runtime.db.slackInstallation.count()).toBe(1);
  });

  it("refuses to install or serve a workspace that is not in SLACK_ALLOWED_WORKSPACES", async () => {
    const store = createSlackInstallationStore(sesame.runtime.db, sesame.runtime.deps.secrets, ["T0OTHER"]);
    const stranger = {
      team: { id: "T0EVIL" },
      enterprise: undefined,
      isEnterpriseInstall: false,
      bot: { token: "xoxb-evil", scopes: [], id: "B1", userId: "U1" },
      user: { id: "U0EVIL", token: undefined, scopes: undefined },
    };
    await expect(store.storeInstallation(stranger as never)).rejects.toThrow(
      /T0EVIL is not in SLACK_ALLOWED_WORKSPACES/,
    );
    await expect(
      store.fetchInstallation({ teamId: "T0EVIL", enterpriseId: undefined, isEnterpriseInstall: false }),
    ).rejects.toThrow(/not in SLACK_ALLOWED_WORKSPACES/);
    expect((await sesame.runtime.db.slackInstallation.findMany()).map((row) => row.key)).not.toContain("TT0EVIL");
  });
});
