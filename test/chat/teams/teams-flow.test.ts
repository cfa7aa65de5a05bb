import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";
import { waitFor } from "../../helpers/wait.js";
import { type ConnectorStandIn, startConnectorStandIn } from "./connector-stand-in.js";
import { adaptiveCardProblems } from "./schemas.js";
import { personalConversation, TeamsClient, teamsUser } from "./teams-client.js";

/** Requests and approvals over real HTTP: activities to /api/messages, replies to a local connector stand-in. */

type Json = Record<string, any>;

const alice = teamsUser("alice");
const bob = teamsUser("bob"); // no `teams:` id in the policy: found by the email Teams reports
const carol = teamsUser("carol");
const erin = teamsUser("erin"); // an approver who never opened a chat with the bot
const TEAM = "19:ops-general@thread.tacv2";

const POLICY = `
version: 1
people:
  - { id: alice, email: alice@example.com, name: Alice, teams: ${alice.aadObjectId} }
  - { id: bob, email: bob@example.com, name: Bob }
  - { id: carol, email: carol@example.com, name: Carol, teams: ${carol.aadObjectId} }
  - { id: erin, email: erin@example.com, name: Erin, teams: ${erin.aadObjectId} }
connectors:
  demo: { type: noop }
resources:
  demo-admin: { connector: demo, description: A pretend admin role }
policies:
  - id: demo
    resources: [demo-admin]
    requesters: { users: [alice] }
    duration: { default: 30m, max: 2h }
    reason: { required: true }
    approvers: { users: [bob, carol, erin] }
    approvalChannels: { teams: "${TEAM}" }
`;

let standIn: ConnectorStandIn;
let sesame: TestSesame;
let client: TeamsClient;

/** Texts sent into a person's chat, markdown escapes removed. */
const texts = (user: typeof alice) =>
  standIn.sent
    .filter((s) => s.conversationId === personalConversation(user))
    .map((s) => String(s.activity.text ?? "").replace(/\\(.)/g, "$1"));
const lastCard = (conversationId: string, requestId: string) =>
  standIn
    .cardsIn(conversationId)
    .filter((c) => JSON.stringify(c.card).includes(requestId))
    .at(-1);
const bodyText = (card: Json) => JSON.stringify(card.body);
const requests = () => sesame.runtime.deps.store.listRequests({ requesterId: "alice", limit: 100 });

async function requestByText(text: string): Promise<string> {
  const before = new Set((await requests()).map((r) => r.id));
  expect((await client.message(alice, text)).status).toBe(200);
  const created = (await requests()).find((r) => !before.has(r.id));
  if (!created) throw new Error(`no request was created by "${text}"; replies: ${texts(alice).join(" | ")}`);
  return created.id;
}

beforeAll(async () => {
  standIn = await startConnectorStandIn();
  standIn.members.set(bob.id, {
    id: bob.id,
    aadObjectId: bob.aadObjectId,
    name: "Bob",
    email: "Bob@Example.com",
    userPrincipalName: "bob@example.com",
  });
  sesame = await startSesame("teamsflow", {
    policy: POLICY,
    identities: ["alice", "bob"],
    env: { TEAMS_DEV_NO_AUTH: "true", NODE_ENV: "development" },
  });
  client = new TeamsClient(sesame.baseUrl, standIn.url);
}, 60_000);
afterAll(async () => {
  await sesame?.stop();
  await standIn?.close();
});

describe("Teams: conversations and identity", () => {
  it("stores conversation references from installationUpdate, conversationUpdate and the team install", async () => {
    expect((await client.installationUpdate(carol)).status).toBe(200);
    expect((await client.conversationUpdate(bob)).status).toBe(200);
    expect((await client.addedToTeam(carol, TEAM)).status).toBe(200);
    const store = sesame.runtime.chat.store;
    expect(await store.conversation("teams", carol.aadObjectId)).toMatchObject({
      serviceUrl: standIn.url,
      conversation: { id: personalConversation(carol) },
      user: { id: carol.id },
    });
    expect(await store.conversation("teams", bob.aadObjectId)).toMatchObject({
      conversation: { id: personalConversation(bob) },
    });
    expect(await store.conversation("teams", `channel:${TEAM}`)).toMatchObject({
      conversation: { id: TEAM, conversationType: "channel" },
    });
    expect(texts(bob).join("\n")).toMatch(/Hi, I am Sesame[\s\S]*request-access list/);
    // Linked on install (by the email Teams reports), so cards reach bob before he ever types.
    expect(await store.identityForAccount("teams", bob.aadObjectId)).toBe("bob");
  });

  it("maps a Teams user by the email Teams reports (TeamsInfo), and says what to do when nobody matches", async () => {
    expect((await client.message(bob, "help")).status).toBe(200);
    expect(standIn.memberLookups).toEqual([bob.id]);
    expect(texts(bob).at(-1)).toContain("request-access cancel <id>");
    const stranger = teamsUser("mallory");
    await client.message(stranger, "request-access demo-admin 1h hi");
    expect(texts(stranger).at(-1)).toMatch(/Sesame does not know you yet.*teams: /);
  });
});

describe("Teams: requesting", () => {
  it("request-access opens the form with the resources and durations this person may request", async () => {
    await client.message(alice, "request-access");
    const form = standIn.cardsIn(personalConversation(alice)).at(-1)!.card;
    expect(adaptiveCardProblems(form)).toEqual([]);
    expect(form.body.find((b: Json) => b.id === "resource").choices.map((c: Json) => c.value)).toEqual(["demo-admin"]);
    expect(form.body.find((b: Json) => b.id === "duration").choices.map((c: Json) => c.value)).toContain("2h");
  });

  it.each([
    ["a duration that is not one", "request-access demo-admin soon checking", /"soon" is not a duration/],
    [
      "a duration over the maximum",
      "request-access demo-admin 5h checking",
      /5h is too long: the maximum for demo-admin is 2h/,
    ],
    ["an unknown resource", "request-access prod 1h checking", /There is no resource "prod"/],
    ["a missing reason", "request-access demo-admin 1h", /reason/i],
  ])(
    "a text request with %s gets a message naming the problem, and nothing is created",
    async (_what, text, problem) => {
      const before = (await requests()).length;
      await client.message(alice, text);
      expect(texts(alice).at(-1)).toMatch(problem);
      expect(await requests()).toHaveLength(before);
    },
  );

  it("a form with a bad answer comes back with the problem next to the field, and nothing is created", async () => {
    const before = (await requests()).length;
    const noReason = await client.invoke(alice, "submit_request", {
      sesame: { kind: "submit_request" },
      resource: "demo-admin",
      duration: "1h",
      reason: " ",
    });
    expect(noReason.body).toMatchObject({ statusCode: 200, type: "application/vnd.microsoft.card.adaptive" });
    const form = noReason.body.value;
    expect(adaptiveCardProblems(form)).toEqual([]);
    expect(form.body.find((b: Json) => b.id === "reason-error").text).toMatch(/reason/i);
    expect(form.body.find((b: Json) => b.id === "duration").value).toBe("1h");
    const badDuration = await client.invoke(alice, "submit_request", {
      sesame: { kind: "submit_request" },
      resource: "demo-admin",
      duration: "ages",
      reason: "x",
    });
    expect(badDuration.body.value.body.find((b: Json) => b.id === "duration-error").text).toContain(
      '"ages" is not a duration',
    );
    expect(await requests()).toHaveLength(before);
  });

  it("a valid form creates the request and replaces the form with it", async () => {
    const before = (await requests()).length;
    const response = await client.invoke(alice, "submit_request", {
      sesame: { kind: "submit_request" },
      resource: "demo-admin",
      duration: "45m",
      reason: "rotate the keys",
      ticket: "",
    });
    expect(response.status).toBe(200);
    expect(bodyText(response.body.value)).toMatch(/Requested demo-admin for 45m/);
    const all = await requests();
    expect(all).toHaveLength(before + 1);
    expect(all[0]).toMatchObject({ status: "pending", durationSeconds: 2700, reason: "rotate the keys" });
  });
});

describe("Teams: approving", () => {
  let requestId: string;

  it("a text request sends approval cards proactively to each approver with a chat, and a read-only copy to the channel mentioning the others", async () => {
    requestId = await requestByText("request-access demo-admin 1h checking the deploy ticket:OPS-9");
    expect(texts(alice).join("\n")).toMatch(/Requested demo-admin for 1h/);
    await waitFor(
      async () =>
        !!lastCard(personalConversation(bob), requestId) &&
        !!lastCard(personalConversation(carol), requestId) &&
        !!lastCard(TEAM, requestId),
      "approval cards for bob, carol and the channel",
      15_000,
    );
    const card = lastCard(personalConversation(bob), requestId)!.card;
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(card.actions.map((a: Json) => a.verb ?? a.type)).toEqual(["approve", "Action.ShowCard"]);
    expect(card.refresh.userIds).toEqual(expect.arrayContaining([bob.id, carol.id, erin.aadObjectId]));
    const channelPost = standIn.sent.filter((s) => s.conversationId === TEAM).at(-1)!.activity;
    expect(channelPost.attachments[0].content.actions).toBeUndefined();
    expect(channelPost.entities).toEqual([
      { type: "mention", text: "<at>Erin</at>", mentioned: { id: erin.aadObjectId, name: "Erin" } },
    ]);
    expect(channelPost.text).toContain("<at>Erin</at>");
  });

  it("Approve via adaptiveCard/action: the updated card comes back in the same HTTP response, other copies are updated, and the grant happens", async () => {
    const approve = lastCard(personalConversation(bob), requestId)!.card.actions.find(
      (a: Json) => a.verb === "approve",
    );
    const response = await client.invoke(bob, "approve", approve.data);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ statusCode: 200, type: "application/vnd.microsoft.card.adaptive" });
    expect(adaptiveCardProblems(response.body.value)).toEqual([]);
    expect(bodyText(response.body.value)).toMatch(/Approved by Bob/);
    expect(response.body.value.actions).toBeUndefined();
    const carolCopy = lastCard(personalConversation(carol), requestId)!;
    await waitFor(
      async () =>
        standIn.updated.some(
          (u) => u.activityId === carolCopy.id && JSON.stringify(u.activity).includes("Approved by Bob"),
        ),
      "carol's copy updated with updateActivity",
    );
    const update = standIn.updated.find((u) => u.activityId === carolCopy.id)!;
    expect(update.conversationId).toBe(personalConversation(carol));
    expect(update.activity.attachments[0].content.actions).toBeUndefined();
    await waitFor(
      async () =>
        (await sesame.runtime.deps.store.listGrants({ subjectId: "alice", limit: 10 })).some(
          (g) => g.requestId === requestId && g.status === "active",
        ),
      "the grant to be active",
    );
    await waitFor(
      async () =>
        standIn
          .cardsIn(personalConversation(alice))
          .some((c) => bodyText(c.card).includes("Your access to demo-admin is active")),
      "alice told her access is active",
    );
  });

  it("an older client's Action.Submit approves too, and the card it came from is updated in place", async () => {
    const id = await requestByText("request-access demo-admin 30m second look");
    await waitFor(async () => !!lastCard(personalConversation(carol), id), "carol's approval card");
    const card = lastCard(personalConversation(carol), id)!;
    const fallback = card.card.actions.find((a: Json) => a.verb === "approve").fallback;
    expect(fallback.type).toBe("Action.Submit");
    expect((await client.submit(carol, fallback.data, card.id)).status).toBe(200);
    expect((await sesame.runtime.deps.store.getRequest(id))?.status).toBe("approved");
    const inPlace = standIn.updated.find(
      (u) => u.activityId === card.id && u.conversationId === personalConversation(carol),
    );
    expect(JSON.stringify(inPlace?.activity)).toContain("Approved by Carol");
  });

  it("a request made outside Teams (REST API) is approved in Teams by the same identity", async () => {
    const created = await sesame.api("alice", "POST", "/api/v1/requests", {
      resource: "demo-admin",
      duration: "15m",
      reason: "from the API",
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await waitFor(async () => !!lastCard(personalConversation(bob), id), "bob's approval card");
    const deny = lastCard(personalConversation(bob), id)!.card.actions.find((a: Json) => a.type === "Action.ShowCard")
      .card.actions[0];
    const response = await client.invoke(bob, "deny", { ...deny.data, reason: "not today" });
    expect(bodyText(response.body.value)).toMatch(/Denied by Bob.*not today/);
    expect(await sesame.runtime.deps.store.getRequest(id)).toMatchObject({
      status: "denied",
      decidedById: "bob",
      decisionReason: "not today",
    });
  });

  it("a reminder is a new message in the approver's chat (Teams notifies of it), sent once per step", async () => {
    const id = await requestByText("request-access demo-admin 30m waiting for a reminder");
    await waitFor(async () => !!lastCard(personalConversation(carol), id), "carol's approval card");
    const reminders = () => texts(carol).filter((text) => text.startsWith("Reminder: Alice (alice) has been waiting"));
    const job = { kind: "reminder", platform: "teams", requestId: id, step: 0, recipient: "carol" } as const;
    await sesame.runtime.chat.dispatcher.run(job);
    expect(reminders()).toHaveLength(1);
    expect(reminders()[0]).toMatch(/for your decision on demo-admin for 30m/);
    // The same step again (a retried job, another worker): nothing more.
    await sesame.runtime.chat.dispatcher.run(job);
    expect(reminders()).toHaveLength(1);
    // Erin never opened a chat with Sesame: she is reminded in the approval channel, @mentioned as on the card.
    await waitFor(async () => !!lastCard(TEAM, id), "the channel's copy");
    await sesame.runtime.chat.dispatcher.run({ ...job, recipient: "erin" });
    const inChannel = standIn.sent.filter((s) => s.conversationId === TEAM).at(-1)!.activity;
    expect(inChannel.text).toMatch(/^<at>Erin<\/at> Reminder: Alice/);
    expect(inChannel.entities).toEqual([
      { type: "mention", text: "<at>Erin</at>", mentioned: { id: erin.aadObjectId, name: "Erin" } },
    ]);
  });

  it("relinquish: the grant card shows revoking at once, then revoked once the access is gone", async () => {
    const granted = standIn
      .cardsIn(personalConversation(alice))
      .filter((c) => bodyText(c.card).includes("Your access to demo-admin is active"))
      .at(-1)!;
    const relinquish = granted.card.actions.find((a: Json) => a.verb === "relinquish");
    const grantId = relinquish.data.sesame.grantId as string;
    const response = await client.invoke(alice, "relinquish", relinquish.data);
    expect(JSON.stringify(response.body.value)).toMatch(/demo-admin: (revoking|revoked)/);
    await waitFor(
      async () =>
        standIn.updated.some(
          (u) => u.activityId === granted.id && JSON.stringify(u.activity).includes("demo-admin: revoked"),
        ),
      "the granted card redrawn as revoked",
    );
    expect((await sesame.runtime.deps.store.getGrant(grantId))?.status).toBe("revoked");
    const redrawn = standIn.updated.filter((u) => u.activityId === granted.id).at(-1)!;
    expect(redrawn.activity.attachments[0].content.actions).toBeUndefined();
  });

  it("list shows the person's requests and grants as cards", async () => {
    await client.message(alice, "list");
    const reply = standIn.sent.filter((s) => s.conversationId === personalConversation(alice)).at(-1)!.activity;
    expect(reply.text).toMatch(/grant\(s\)/);
    for (const attachment of reply.attachments) expect(adaptiveCardProblems(attachment.content)).toEqual([]);
    expect(JSON.stringify(reply.attachments)).toContain("Relinquish now");
  });
});
