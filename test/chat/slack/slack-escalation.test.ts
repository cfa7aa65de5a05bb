import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEscalationStep } from "../../../src/services/escalate-request.js";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";
import { waitFor } from "../../helpers/wait.js";
import { allText, buttonValue, landedAt } from "./slack-cards.js";
import { blockActionPayload, interactionBody, postSigned, SIGNING_SECRET, slashCommandBody } from "./slack-requests.js";
import { type RecordedCall, type SlackStandIn, startSlackStandIn } from "./slack-web-api-stand-in.js";

/** The escalation ladder and break-glass as Slack users see them: reminders on the card, the requester told, review cards. */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com, name: Alice, slack: U0ALICE }
  - { id: bob, email: bob@example.com, name: Bob, slack: U0BOB }
connectors:
  demo: { type: noop, config: {} }
resources:
  demo: { connector: demo }
policies:
  - id: demo
    resources: [demo]
    requesters: { users: [alice] }
    duration: { default: 30m, max: 2h }
    approvers: { users: [bob] }
    escalation:
      - { after: 10m, action: remind }
      - { after: 20m, action: reroute, to: { users: [bob] } }
    breakGlass: { maxDuration: 15m, channels: { slack: C0SECURITY } }
`;

let slack: SlackStandIn;
let sesame: TestSesame;
const FORM = "application/x-www-form-urlencoded";

beforeAll(async () => {
  slack = await startSlackStandIn();
  sesame = await startSesame("slack_escalation", {
    policy,
    identities: ["alice", "bob"],
    env: { SLACK_BOT_TOKEN: "xoxb-test-token", SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl },
  });
});
afterAll(async () => {
  await sesame?.stop();
  await slack?.close();
});

async function posted(channel: string, pattern: RegExp | string): Promise<RecordedCall> {
  const matches = (call: RecordedCall) =>
    call.params.channel === channel &&
    (typeof pattern === "string" ? allText(call).includes(pattern) : pattern.test(allText(call)));
  await waitFor(
    async () => slack.callsTo("chat.postMessage").some(matches),
    `a message to ${channel} matching ${pattern}`,
  );
  return slack.callsTo("chat.postMessage").find(matches)!;
}

describe("escalation in Slack", () => {
  it("updates the approver's card and tells the requester when the ladder reminds", async () => {
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "demo", reason: "deploy" });
    const card = await posted("U0BOB", created.body.id);
    await (await sesame.runtime.queues.escalations.getJob(`escalate-${created.body.id}-0`))!.promote();
    const notice = await posted("U0ALICE", /is still waiting/);
    expect(allText(notice)).toMatch(/Reminded the approvers at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    const where = landedAt(card);
    await waitFor(
      async () =>
        slack
          .callsTo("chat.update")
          .some((call) => call.params.ts === where.ts && /Where it stands: Reminded the approvers/.test(allText(call))),
      "the card to show the reminder",
    );
    // An edited card notifies nobody: the reminder is a reply in the card's thread that mentions bob.
    const isReminder = (call: RecordedCall) =>
      call.params.thread_ts === where.ts && call.params.channel === where.channel;
    await waitFor(async () => slack.callsTo("chat.postMessage").some(isReminder), "a reminder in the card's thread");
    const reminder = slack.callsTo("chat.postMessage").find(isReminder)!;
    expect(String(reminder.params.text)).toMatch(/^<@U0BOB> Reminder: Alice \(alice\) has been waiting since/);
    // At most once per step: the reminder job run again (a retry, a second worker) and the step run again send nothing.
    await sesame.runtime.chat.dispatcher.run({
      kind: "reminder",
      platform: "slack",
      requestId: created.body.id,
      step: 0,
      recipient: "bob",
    });
    expect(await runEscalationStep(sesame.runtime.deps, created.body.id, 0)).toBeNull();
    expect(slack.callsTo("chat.postMessage").filter(isReminder)).toHaveLength(1);
  });
});

describe("break-glass in Slack", () => {
  it("grants at once from the slash command, sends review cards, and takes the review only from an approver", async () => {
    const reply = await postSigned(
      sesame.baseUrl,
      slashCommandBody("U0ALICE", "break-glass demo 10m prod is down", slack.responseUrl("bg")),
      FORM,
    );
    expect(reply.status).toBe(200);
    await waitFor(
      async () =>
        slack.callsTo("response_url").some((call) => /Break-glass: demo is being granted now/.test(allText(call))),
      "the break-glass reply",
    );
    const [request] = await sesame.runtime.deps.store.listRequests({ unreviewedBreakGlass: true });
    expect(request).toMatchObject({ status: "approved", breakGlass: true });
    const security = await posted("C0SECURITY", request!.id);
    expect(allText(security)).toMatch(/BREAK-GLASS/);
    const card = await posted("U0BOB", request!.id);
    const value = buttonValue(card, "sesame_review");

    await postSigned(
      sesame.baseUrl,
      interactionBody(blockActionPayload("U0ALICE", "sesame_review", value, landedAt(security))),
      FORM,
    );
    await waitFor(
      async () =>
        slack
          .callsTo("chat.postEphemeral")
          .some((call) => call.params.user === "U0ALICE" && /cannot review your own break-glass/.test(allText(call))),
      "alice to be refused",
    );
    expect((await sesame.runtime.deps.store.getRequest(request!.id))?.reviewedAt).toBeNull();

    await postSigned(
      sesame.baseUrl,
      interactionBody(blockActionPayload("U0BOB", "sesame_review", value, landedAt(card))),
      FORM,
    );
    await waitFor(
      async () => (await sesame.runtime.deps.store.getRequest(request!.id))?.reviewedById === "bob",
      "bob's review",
    );
    await waitFor(
      async () =>
        slack
          .callsTo("chat.update")
          .some((call) => call.params.channel === "C0SECURITY" && /reviewed by Bob/.test(allText(call))),
      "the security channel's card to show the review",
    );
  });
});
