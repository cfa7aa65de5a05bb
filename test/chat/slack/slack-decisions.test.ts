import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";
import { waitFor } from "../../helpers/wait.js";
import { allText, buttonValue, landedAt } from "./slack-cards.js";
import {
  blockActionPayload,
  interactionBody,
  postSigned,
  SIGNING_SECRET,
  typed,
  viewSubmissionPayload,
} from "./slack-requests.js";
import { type RecordedCall, type SlackStandIn, startSlackStandIn } from "./slack-web-api-stand-in.js";

/** Who may decide, and what a refused, stale, replayed or forged click does: nothing, and the clicker is told why. */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com, name: Alice, slack: U0ALICE }
  - { id: bob, email: bob@example.com, name: Bob, slack: U0BOB }
  - { id: carol, email: carol@example.com, name: Carol, slack: U0CAROL }
  - { id: mallory, email: mallory@example.com, name: Mallory, slack: U0MALLORY }
connectors:
  demo: { type: noop, config: {} }
resources:
  demo: { connector: demo, principal: "{{ id }}" }
policies:
  - id: demo
    resources: [demo]
    requesters: { users: [alice, bob] }
    duration: { default: 30m, max: 2h }
    reason: { required: true }
    approvers: { users: [bob, carol] }
    approvalChannels: { slack: C0APPROVALS }
`;

let slack: SlackStandIn;
let sesame: TestSesame;
const FORM = "application/x-www-form-urlencoded";

beforeAll(async () => {
  slack = await startSlackStandIn();
  sesame = await startSesame("slack_decisions", {
    policy,
    identities: ["alice", "bob", "carol", "mallory"],
    env: { SLACK_BOT_TOKEN: "xoxb-test-token", SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl },
  });
});

afterAll(async () => {
  await sesame?.stop();
  await slack?.close();
});

async function requestBy(requester: string): Promise<string> {
  const created = await sesame.api(requester, "POST", "/api/v1/requests", {
    resource: "demo",
    duration: "30m",
    reason: "testing decisions",
  });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

async function cardFor(user: string, requestId: string): Promise<RecordedCall> {
  const find = () =>
    slack.callsTo("chat.postMessage").find((call) => call.params.channel === user && allText(call).includes(requestId));
  await waitFor(async () => find() !== undefined, `card for ${user}`);
  return find()!;
}

async function click(user: string, card: RecordedCall, actionId: string, value = buttonValue(card, actionId)) {
  return postSigned(sesame.baseUrl, interactionBody(blockActionPayload(user, actionId, value, landedAt(card))), FORM);
}

async function toldTo(user: string, pattern: RegExp): Promise<string> {
  const find = () =>
    slack
      .callsTo("chat.postEphemeral")
      .find((call) => call.params.user === user && pattern.test(String(call.params.text)));
  await waitFor(async () => find() !== undefined, `ephemeral to ${user} matching ${pattern}`);
  return String(find()!.params.text);
}

const request = async (id: string, viewer = "alice") =>
  (await sesame.api(viewer, "GET", `/api/v1/requests/${id}`)).body;

describe("decisions from Slack cards", () => {
  it("applies exactly one of a concurrent Approve and Deny; the other approver is told what happened", async () => {
    const id = await requestBy("alice");
    const bobCard = await cardFor("U0BOB", id);
    const carolCard = await cardFor("U0CAROL", id);
    const opensBefore = slack.callsTo("views.open").length;
    await click("U0CAROL", carolCard, "sesame_deny");
    await waitFor(async () => slack.callsTo("views.open").length > opensBefore, "deny modal");
    const modal = slack.callsTo("views.open").at(-1)!.params.view;
    expect(modal).toMatchObject({ callback_id: "sesame_deny_reason" });
    expect(JSON.parse(modal.private_metadata)).toMatchObject({
      value: buttonValue(carolCard, "sesame_deny"),
      ...landedAt(carolCard),
    });

    const deny = interactionBody(
      viewSubmissionPayload(
        "U0CAROL",
        "sesame_deny_reason",
        { reason: typed("not during the freeze") },
        modal.private_metadata,
      ),
    );
    const [approved, denied] = await Promise.all([
      click("U0BOB", bobCard, "sesame_approve"),
      postSigned(sesame.baseUrl, deny, FORM),
    ]);
    expect([approved.status, denied.status]).toEqual([200, 200]);

    await waitFor(async () => (await request(id)).status !== "pending", "a decision");
    const final = await request(id);
    expect(final.decisions).toHaveLength(1);
    const [winner, loser] = final.status === "approved" ? ["U0BOB", "U0CAROL"] : ["U0CAROL", "U0BOB"];
    await toldTo(winner, final.status === "approved" ? /^Approved/ : /^Denied/);
    expect(await toldTo(loser, /already (approved|denied) by (Bob|Carol|bob|carol)/i)).toBeTruthy();
  });

  it("ignores a replayed click: the second delivery is acknowledged and changes nothing (one stored action per trigger_id)", async () => {
    const id = await requestBy("alice");
    const card = await cardFor("U0BOB", id);
    const payload = blockActionPayload("U0BOB", "sesame_approve", buttonValue(card, "sesame_approve"), landedAt(card));
    const body = interactionBody(payload);
    expect((await postSigned(sesame.baseUrl, body, FORM)).status).toBe(200);
    await waitFor(async () => (await request(id)).status === "approved", "approval");
    await toldTo("U0BOB", /^Approved/);
    expect((await postSigned(sesame.baseUrl, body, FORM)).status).toBe(200);
    // Marked done once its work ended, which may be just after the person was told.
    const statuses = async () =>
      (await sesame.runtime.db.chatIntake.findMany({ where: { key: `action-${payload.trigger_id}` } })).map(
        (row) => row.status,
      );
    await waitFor(async () => (await statuses()).join() === "done", "the stored click to be marked done");
    expect(await statuses()).toEqual(["done"]);
    expect((await request(id)).decisions).toHaveLength(1);
  });

  it("refuses a button value carrying a forged user id, and never takes the clicker from it", async () => {
    const id = await requestBy("alice");
    const card = await cardFor("U0BOB", id);
    const forged = JSON.stringify({
      ...JSON.parse(buttonValue(card, "sesame_approve")),
      user: "U0BOB",
      actorId: "bob",
    });
    await click("U0MALLORY", card, "sesame_approve", forged);
    await toldTo("U0MALLORY", /cannot act on this button/);
    expect((await request(id)).status).toBe("pending");
  });

  it("refuses a click from someone who is not an approver", async () => {
    const id = await requestBy("alice");
    const card = await cardFor("U0BOB", id);
    await click("U0MALLORY", card, "sesame_approve");
    await toldTo("U0MALLORY", /not an approver/);
    expect((await request(id)).status).toBe("pending");
    // Mallory is not named by the request, so nothing about it is redrawn for her.
    expect(slack.callsTo("chat.update").some((call) => call.params.ts === landedAt(card).ts)).toBe(false);
  });

  it("refuses self-approval, even for an approver who got hold of another approver's card", async () => {
    const id = await requestBy("bob");
    const carolCard = await cardFor("U0CAROL", id);
    expect(
      slack
        .callsTo("chat.postMessage")
        .some(
          (call) =>
            call.params.channel === "U0BOB" && allText(call).includes("sesame_approve") && allText(call).includes(id),
        ),
    ).toBe(false);
    await click("U0BOB", carolCard, "sesame_approve");
    await toldTo("U0BOB", /cannot approve or deny your own request/);
    expect((await request(id, "bob")).status).toBe("pending");
  });

  it("refuses a stale card: a click on an old version changes nothing", async () => {
    const id = await requestBy("alice");
    const card = await cardFor("U0BOB", id);
    const stale = JSON.stringify({ ...JSON.parse(buttonValue(card, "sesame_approve")), version: 7 });
    await click("U0BOB", card, "sesame_approve", stale);
    await toldTo("U0BOB", /changed|stale|newer|version/i);
    expect((await request(id)).status).toBe("pending");
  });

  it("denies with the reason asked for in the modal, and tells the requester why; the channel's copy shows it too", async () => {
    const id = await requestBy("alice");
    const card = await cardFor("U0CAROL", id);
    const channelCopy = await cardFor("C0APPROVALS", id);
    const metadata = JSON.stringify({ value: buttonValue(card, "sesame_deny"), ...landedAt(card) });
    await postSigned(
      sesame.baseUrl,
      interactionBody(
        viewSubmissionPayload("U0CAROL", "sesame_deny_reason", { reason: typed("use the replica instead") }, metadata),
      ),
      FORM,
    );
    await waitFor(async () => (await request(id)).status === "denied", "denied");
    await waitFor(
      async () =>
        slack
          .callsTo("chat.postMessage")
          .some(
            (call) =>
              call.params.channel === "U0ALICE" &&
              /was denied/.test(allText(call)) &&
              allText(call).includes("use the replica instead"),
          ),
      "denied DM",
    );
    for (const copy of [card, channelCopy]) {
      await waitFor(
        async () =>
          slack
            .callsTo("chat.update")
            .some(
              (call) =>
                call.params.channel === landedAt(copy).channel &&
                call.params.ts === landedAt(copy).ts &&
                /Denied by Carol/.test(allText(call)),
            ),
        "card updated",
      );
    }
  });

  it("retries a failed notification without rolling back the decision", async () => {
    const id = await requestBy("alice");
    const card = await cardFor("U0BOB", id);
    // The requester's "approved" DM fails once with a Slack error. Matched by what it says, so
    // no other message still on its way (carol's card, the channel copy) takes the failure instead.
    const approvedDm = (params: Record<string, any>) =>
      params.channel === "U0ALICE" &&
      /was approved/.test(JSON.stringify(params)) &&
      JSON.stringify(params).includes(id.slice(0, 8));
    slack.failNext("chat.postMessage", { status: 200, body: { ok: false, error: "fatal_error" }, when: approvedDm });
    await click("U0BOB", card, "sesame_approve");
    await waitFor(
      async () => slack.callsTo("chat.postMessage").some((call) => call.result.error === "fatal_error"),
      "the failed post",
    );
    expect((await request(id)).status).toBe("approved");
    await waitFor(
      async () =>
        slack
          .callsTo("chat.postMessage")
          .some(
            (call) =>
              call.params.channel === "U0ALICE" &&
              call.result.ok === true &&
              /was approved/.test(allText(call)) &&
              allText(call).includes(id.slice(0, 8)),
          ),
      "the retried DM",
    );
    expect((await request(id)).status).toBe("approved");
  });
});
