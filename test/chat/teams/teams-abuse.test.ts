import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChatIntakeRepository } from "../../../src/storage/chat-intake-repository.js";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";
import { waitFor } from "../../helpers/wait.js";
import { type ConnectorStandIn, startConnectorStandIn } from "./connector-stand-in.js";
import { personalConversation, TeamsClient, type TeamsUser, teamsUser } from "./teams-client.js";

/**
 * Clicks that must change nothing: the decider is the verified `from.aadObjectId`, never card
 * data; the core's rules (no self-approval, approvers only, one decision, card bound to a
 * version) hold in Teams; an automatic refresh only ever shows a card.
 */

type Json = Record<string, any>;

const alice = teamsUser("alice");
const bob = teamsUser("bob");
const carol = teamsUser("carol");
const dave = teamsUser("dave");
const erin = teamsUser("erin");
const people = [alice, bob, carol, dave, erin];

const POLICY = `
version: 1
people:
${people.map((p) => `  - { id: ${p.identity}, email: ${p.email}, name: ${p.name}, teams: ${p.aadObjectId}${p === erin ? ", admin: true" : ""} }`).join("\n")}
connectors:
  demo: { type: noop }
resources:
  demo-admin: { connector: demo }
  staging: { connector: demo }
policies:
  - id: demo
    resources: [demo-admin]
    requesters: { users: [alice, bob] }
    duration: { default: 30m, max: 2h }
    approvers: { users: [bob, carol] }
  - id: two-approvals
    resources: [staging]
    requesters: { users: [alice] }
    duration: { default: 30m, max: 2h }
    approvers: { users: [bob, carol] }
    requiredApprovals: 2
`;

let standIn: ConnectorStandIn;
let sesame: TestSesame;
let client: TeamsClient;

const request = (id: string) => sesame.runtime.deps.store.getRequest(id);
const data = (kind: "approve" | "deny", requestId: string, version: number) => ({
  sesame: { kind, requestId, version },
});

async function submit(requester: TeamsUser, text: string): Promise<string> {
  const store = sesame.runtime.deps.store;
  const before = new Set((await store.listRequests({ requesterId: requester.identity, limit: 100 })).map((r) => r.id));
  await client.message(requester, `request-access ${text}`);
  const created = (await store.listRequests({ requesterId: requester.identity, limit: 100 })).find(
    (r) => !before.has(r.id),
  );
  if (!created) throw new Error(`no request created by "${text}"`);
  return created.id;
}

beforeAll(async () => {
  standIn = await startConnectorStandIn();
  sesame = await startSesame("teamsabuse", {
    policy: POLICY,
    identities: [],
    env: { TEAMS_DEV_NO_AUTH: "true", NODE_ENV: "development" },
  });
  client = new TeamsClient(sesame.baseUrl, standIn.url);
  for (const person of people) await client.installationUpdate(person);
}, 60_000);
afterAll(async () => {
  await sesame?.stop();
  await standIn?.close();
});

describe("Teams: decisions that must not happen", () => {
  it("the requester cannot approve their own request, even though they are an approver", async () => {
    const id = await submit(bob, "demo-admin 1h own request");
    const response = await client.invoke(bob, "approve", data("approve", id, 1));
    expect(JSON.stringify(response.body.value)).toMatch(/own request/i);
    expect((await request(id))?.status).toBe("pending");
  });

  it("someone who is not an approver cannot decide", async () => {
    const id = await submit(alice, "demo-admin 1h dave tries");
    const response = await client.invoke(dave, "approve", data("approve", id, 1));
    expect(response.body.type).toBe("application/vnd.microsoft.activity.message");
    expect(response.body.value).toMatch(/not an approver for this request/);
    expect((await request(id))?.status).toBe("pending");
  });

  it.each([
    ["an approver id next to the button value", (id: string) => ({ ...data("approve", id, 1), approverId: "bob" })],
    [
      "a user id inside the button value",
      (id: string) => ({ sesame: { kind: "approve", requestId: id, version: 1, userId: bob.aadObjectId } }),
    ],
    [
      "a from field imitating Teams",
      (id: string) => ({ ...data("approve", id, 1), from: { aadObjectId: bob.aadObjectId } }),
    ],
  ])("card data with %s is refused outright; the actor stays the verified sender", async (_what, forged) => {
    const id = await submit(alice, "demo-admin 1h forged ids");
    const response = await client.invoke(dave, "approve", forged(id));
    expect(response.body).toMatchObject({ statusCode: 400, type: "application/vnd.microsoft.error" });
    expect(await request(id)).toMatchObject({ status: "pending", decisions: [] });
  });

  it("an automatic refresh never decides: it returns the viewer's card and the request stays pending", async () => {
    const id = await submit(alice, "demo-admin 1h refresh only");
    const forApprover = await client.invoke(
      bob,
      "refresh",
      { sesame: { kind: "refresh", requestId: id } },
      "automatic",
    );
    expect(forApprover.body.value.actions.map((a: Json) => a.verb ?? a.type)).toEqual(["approve", "Action.ShowCard"]);
    const forOthers = await client.invoke(dave, "refresh", { sesame: { kind: "refresh", requestId: id } }, "automatic");
    expect(forOthers.body.value.actions).toBeUndefined();
    expect(JSON.stringify(forOthers.body.value)).not.toContain("refresh only");
    const disguised = await client.invoke(bob, "approve", data("approve", id, 1), "automatic");
    expect(disguised.body.statusCode).toBe(400);
    const mismatched = await client.invoke(bob, "refresh", data("approve", id, 1), "manual");
    expect(mismatched.body.statusCode).toBe(400);
    expect(await request(id)).toMatchObject({ status: "pending", decisions: [] });
  });

  it("a refresh shows the request only to its requester, its approvers and admins; others get a card with no facts", async () => {
    const id = await submit(alice, "demo-admin 1h private reason 7f3e");
    const refresh = (user: TeamsUser, requestId = id) =>
      client.invoke(user, "refresh", { sesame: { kind: "refresh", requestId } });
    const stranger = teamsUser("mallory"); // in the tenant, never linked to anyone in the policy
    for (const allowed of [alice, bob, carol, erin]) {
      const response = await refresh(allowed);
      expect(response.body.type).toBe("application/vnd.microsoft.card.adaptive");
      expect(JSON.stringify(response.body.value)).toContain("private reason 7f3e");
    }
    const answers = [await refresh(dave), await refresh(stranger), await refresh(dave, randomUUID())];
    for (const response of answers) {
      expect(response.body).toMatchObject({ statusCode: 200, type: "application/vnd.microsoft.card.adaptive" });
      const text = JSON.stringify(response.body.value);
      for (const fact of ["private reason", "demo-admin", "Alice", id, id.slice(0, 8), "FactSet"])
        expect(text).not.toContain(fact);
      expect(response.body.value.actions).toBeUndefined();
      expect(response.body.value.refresh).toBeUndefined();
    }
    // Whether the request exists is not told either: a missing id gets the very same card.
    expect(answers[2]!.body.value).toEqual(answers[0]!.body.value);
    expect(answers[1]!.body.value).toEqual(answers[0]!.body.value);
    expect(await request(id)).toMatchObject({ status: "pending", decisions: [] });
  });

  it("a stale card (old version) changes nothing; the current card is shown instead", async () => {
    const id = await submit(alice, "staging 1h two approvals");
    await client.invoke(bob, "approve", data("approve", id, 1));
    expect(await request(id)).toMatchObject({ status: "pending", version: 2 });
    const stale = await client.invoke(carol, "approve", data("approve", id, 1));
    expect(JSON.stringify(stale.body.value)).toMatch(/changed since your card was sent/);
    expect(stale.body.value.actions.find((a: Json) => a.verb === "approve").data.sesame.version).toBe(2);
    expect(await request(id)).toMatchObject({ status: "pending", version: 2 });
    await client.invoke(carol, "approve", data("approve", id, 2));
    expect((await request(id))?.status).toBe("approved");
  });

  it("a replayed click after the decision changes nothing", async () => {
    const id = await submit(alice, "demo-admin 1h replay");
    const first = await client.invoke(carol, "deny", data("deny", id, 1));
    expect(JSON.stringify(first.body.value)).toMatch(/Denied by Carol/);
    const replay = await client.invoke(carol, "deny", data("deny", id, 1));
    const approveReplay = await client.invoke(bob, "approve", data("approve", id, 1));
    for (const response of [replay, approveReplay])
      expect(JSON.stringify(response.body.value)).toMatch(/already denied/);
    const final = await request(id);
    expect(final).toMatchObject({ status: "denied", decidedById: "carol", version: 2 });
    expect(final?.decisions).toHaveLength(1);
  });

  it("an Action.Submit with forged data is refused and nothing is updated", async () => {
    const id = await submit(alice, "demo-admin 1h submit forged");
    await waitFor(
      async () => standIn.cardsIn(personalConversation(carol)).some((c) => JSON.stringify(c.card).includes(id)),
      "carol's card",
    );
    const updatesBefore = standIn.updated.length;
    await client.submit(dave, { ...data("approve", id, 1), approverId: "carol" }, "activity-1");
    expect(standIn.sent.filter((s) => s.conversationId === personalConversation(dave)).at(-1)?.activity.text).toMatch(
      /not valid/,
    );
    expect(standIn.updated).toHaveLength(updatesBefore);
    expect((await request(id))?.status).toBe("pending");
  });

  it("a replayed activity (same id, numeric or with colons) is stored once and creates one request", async () => {
    const store = sesame.runtime.deps.store;
    const count = async () => (await store.listRequests({ requesterId: alice.identity, limit: 200 })).length;
    const before = await count();
    const activity = client.base(alice, "message", {
      text: "request-access demo-admin 1h replayed",
      id: "1:1700000000123",
    });
    const replies = await Promise.all([1, 2, 3].map(() => client.post(activity)));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await count()).toBe(before + 1);
    // Marked done once its work ended, which may be just after the answer.
    const statuses = async () =>
      (await sesame.runtime.db.chatIntake.findMany({ where: { platform: "teams", key: "1:1700000000123" } })).map(
        (row) => row.status,
      );
    await waitFor(async () => (await statuses()).join() === "done", "the stored activity to be marked done");
    expect(await statuses()).toEqual(["done"]);
  });

  it("a replayed card invoke is answered and decides nothing more", async () => {
    const id = await submit(alice, "demo-admin 1h invoke replay");
    const invoke = client.base(bob, "invoke", {
      name: "adaptiveCard/action",
      value: { action: { type: "Action.Execute", verb: "approve", data: data("approve", id, 1) }, trigger: "manual" },
    });
    const first = await client.post(invoke);
    expect(first.status).toBe(200);
    const again = await client.post(invoke);
    expect(again.body).toMatchObject({
      type: "application/vnd.microsoft.activity.message",
      value: expect.stringMatching(/already received/),
    });
    expect((await request(id))?.decisions).toHaveLength(1);
  });

  it("a message stored by a process that died before working it is worked later and answered in its chat", async () => {
    const store = sesame.runtime.deps.store;
    const count = async () => (await store.listRequests({ requesterId: alice.identity, limit: 200 })).length;
    const before = await count();
    const activity = client.base(alice, "message", { text: "request-access demo-admin 1h orphaned", id: "f:orphan-1" });
    const repo = createChatIntakeRepository(sesame.runtime.db, sesame.runtime.deps.secrets);
    expect(
      await repo.insert("00000000-0000-4000-8000-0000000000a1", {
        platform: "teams",
        kind: "activity",
        key: "f:orphan-1",
        payload: activity,
      }),
    ).toBeDefined();
    const sentBefore = standIn.sent.length;
    sesame.clock.travelTo(new Date(Date.now() + 120_000));
    try {
      await sesame.runtime.chat.intake.recover();
      await waitFor(async () => (await count()) === before + 1, "the stored request");
      await waitFor(
        async () =>
          standIn.sent
            .slice(sentBefore)
            .some(
              (s) => s.conversationId === personalConversation(alice) && /Requested demo-admin/.test(s.activity.text),
            ),
        "the answer in alice's chat",
      );
    } finally {
      sesame.clock.reset();
    }
    // The row is marked done after the answer went out: wait for it rather than race it.
    const statuses = async () =>
      (await sesame.runtime.db.chatIntake.findMany({ where: { key: "f:orphan-1" } })).map((row) => row.status);
    await waitFor(async () => (await statuses()).join() === "done", "the stored message to be marked done");
    expect(await statuses()).toEqual(["done"]);
  });
});
