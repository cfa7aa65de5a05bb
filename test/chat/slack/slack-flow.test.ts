import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresFixture, type PostgresFixture } from "../../connectors/postgres-fixture.js";
import { parseExposition, sampleValue, scrape } from "../../helpers/prometheus.js";
import { runRevokeAtExpiry, startSesame, type TestSesame } from "../../helpers/sesame.js";
import { waitFor } from "../../helpers/wait.js";
import { allText, buttons, buttonValue, landedAt } from "./slack-cards.js";
import {
  blockActionPayload,
  interactionBody,
  postSigned,
  SIGNING_SECRET,
  selected,
  slashCommandBody,
  typed,
  viewSubmissionPayload,
} from "./slack-requests.js";
import { type SlackStandIn, startSlackStandIn } from "./slack-web-api-stand-in.js";

/**
 * The whole flow through Slack, against the real Bolt app over HTTP and a real PostgreSQL
 * target: /request-access → modal → approvers' cards → Approve → role granted → every card
 * updated → requester DMs → revoked at expiry.
 */

let pg: PostgresFixture;
let slack: SlackStandIn;
let sesame: TestSesame;
const FORM = "application/x-www-form-urlencoded";

const policy = (fixture: PostgresFixture) => `
version: 1
people:
  - { id: alice, email: alice@example.com, name: Alice, slack: U0ALICE, principals: { pg: ${fixture.role("alice")} } }
  - { id: bob, email: bob@example.com, name: Bob }
  - { id: carol, email: carol@example.com, name: Carol, slack: U0CAROL }
connectors:
  pg: { type: postgres, config: { url: { env: SLACK_FLOW_PG_URL } } }
resources:
  prod-db:
    description: Production database
    connector: pg
    target: { mode: membership, role: ${fixture.role("reader")} }
policies:
  - id: prod-db
    resources: [prod-db]
    requesters: { users: [alice] }
    duration: { default: 30m, max: 1h }
    reason: { required: true }
    approvers: { users: [bob, carol] }
`;

beforeAll(async () => {
  pg = await createPostgresFixture("slack_flow");
  slack = await startSlackStandIn();
  slack.users.set("U0ALICE", "alice@example.com");
  slack.users.set("U0BOB", "bob@example.com");
  slack.users.set("U0CAROL", "carol@example.com");
  sesame = await startSesame("slack_flow", {
    policy: policy(pg),
    identities: ["alice", "bob", "carol"],
    env: {
      SLACK_BOT_TOKEN: "xoxb-test-token",
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      SLACK_FLOW_PG_URL: pg.granterUrl,
    },
  });
});

afterAll(async () => {
  await sesame?.stop();
  await slack?.close();
  await pg?.cleanup();
});

const dmsTo = (user: string) => slack.callsTo("chat.postMessage").filter((call) => call.params.channel === user);

describe("Slack end to end", () => {
  it("requests through the modal, approves from a card, grants on PostgreSQL and revokes at expiry", async () => {
    const alice = pg.role("alice");
    expect(await pg.canConnect(alice)).toBe(false);

    // 1. /request-access with no text opens the form at once.
    const opened = await postSigned(sesame.baseUrl, slashCommandBody("U0ALICE", "", slack.responseUrl("form")), FORM);
    expect(opened.status).toBe(200);
    await waitFor(async () => slack.callsTo("views.open").length === 1, "views.open");
    const form = slack.callsTo("views.open")[0]!.params;
    expect(form.trigger_id).toBeTruthy();
    expect(form.view).toMatchObject({ type: "modal", callback_id: "sesame_request_form" });
    expect(allText(slack.callsTo("views.open")[0]!)).toContain("prod-db");

    // 2. The form is submitted; the modal closes (empty 200).
    const values = {
      resource: selected("prod-db"),
      duration: selected("30m"),
      reason: typed("incident 42: checking replication"),
      ticket: typed(""),
    };
    const submitted = await postSigned(
      sesame.baseUrl,
      interactionBody(viewSubmissionPayload("U0ALICE", "sesame_request_form", values)),
      FORM,
    );
    expect(submitted.status).toBe(200);
    expect(submitted.text).toBe("");

    // 3. Each approver gets a card (bob found by email), the requester a "submitted" DM naming who was asked.
    await waitFor(
      async () => dmsTo("U0BOB").length === 1 && dmsTo("U0CAROL").length === 1 && dmsTo("U0ALICE").length === 1,
      "approval cards and the submitted DM",
    );
    expect(slack.callsTo("users.lookupByEmail").some((call) => call.params.email === "bob@example.com")).toBe(true);
    const bobCard = dmsTo("U0BOB")[0]!;
    for (const fact of [
      "Alice (alice)",
      "prod-db",
      "30m",
      "incident 42: checking replication",
      "Approvals",
      "0 of 1 received",
    ])
      expect(allText(bobCard)).toContain(fact);
    expect(buttons(bobCard).map((b) => b.action_id)).toEqual(["sesame_approve", "sesame_deny"]);
    expect(JSON.parse(buttonValue(bobCard, "sesame_approve"))).toEqual({
      kind: "approve",
      requestId: expect.any(String),
      version: 1,
    });
    expect(allText(dmsTo("U0ALICE")[0]!)).toMatch(/waiting for approval.*Asked: Bob \(bob\), Carol \(carol\)/);

    // 4. Bob approves from his card.
    const approve = blockActionPayload(
      "U0BOB",
      "sesame_approve",
      buttonValue(bobCard, "sesame_approve"),
      landedAt(bobCard),
    );
    expect((await postSigned(sesame.baseUrl, interactionBody(approve), FORM)).status).toBe(200);

    // 5. Bob is told; his card and Carol's are updated in place, without buttons, saying who decided.
    await waitFor(
      async () => slack.callsTo("chat.postEphemeral").some((call) => call.params.user === "U0BOB"),
      "ephemeral to bob",
    );
    expect(slack.callsTo("chat.postEphemeral").find((call) => call.params.user === "U0BOB")!.params.text).toMatch(
      /Approved/,
    );
    const carolCard = landedAt(dmsTo("U0CAROL")[0]!);
    await waitFor(
      async () =>
        [landedAt(bobCard), carolCard].every((at) =>
          slack.callsTo("chat.update").some((call) => call.params.channel === at.channel && call.params.ts === at.ts),
        ),
      "both cards updated",
    );
    for (const update of slack.callsTo("chat.update")) {
      expect(buttons(update)).toEqual([]);
      expect(allText(update)).toMatch(/Approved by Bob \(bob\) at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    }

    // 6. The role is really granted, and Alice hears "approved" then "granted" with what to do now.
    await waitFor(() => pg.canConnect(alice), "alice can connect");
    await waitFor(async () => dmsTo("U0ALICE").some((call) => /is active until/.test(allText(call))), "granted DM");
    const aliceDms = dmsTo("U0ALICE").map(allText).join("\n");
    expect(aliceDms).toContain("was approved");
    expect(aliceDms).toContain(`What to do now: use prod-db (Production database) as ${alice}`);

    // 7. At expiry the role is removed and Alice is told. (Brought forward: Sesame's clock is moved
    // past the expiry and the revoke job run, instead of the test waiting 30 minutes.)
    const { requestId } = JSON.parse(buttonValue(bobCard, "sesame_approve")) as { requestId: string };
    const grant = await sesame.runtime.deps.store.getGrantByRequest(requestId);
    await runRevokeAtExpiry(sesame, grant!.id);
    await waitFor(async () => dmsTo("U0ALICE").some((call) => /has ended/.test(allText(call))), "revoked DM");
    expect(await pg.canConnect(alice)).toBe(false);
  });
});

describe("Slack on /metrics", () => {
  it("counts the messages the chat queue delivered, by platform, and their time to decision", async () => {
    // The flow above sent cards and DMs through the chat queue and had one request decided.
    const { status, text } = await scrape(`${sesame.baseUrl}/metrics`);
    expect(status).toBe(200);
    const samples = parseExposition(text);
    expect(
      sampleValue(samples, "sesame_chat_deliveries_total", { platform: "slack", outcome: "delivered" }),
    ).toBeGreaterThan(0);
    expect(sampleValue(samples, "sesame_chat_deliveries_total", { platform: "slack", outcome: "failed" })).toBe(0);
    expect(sampleValue(samples, "sesame_request_decision_seconds_count")).toBeGreaterThanOrEqual(1);
  });
});
