import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Card } from "../../../src/chat/core/card-model.js";
import type { ChatAdapter, MessageAddress, Recipient } from "../../../src/chat/core/chat-adapter.js";
import { runCommand } from "../../../src/chat/core/chat-commands.js";
import { planChatJobs } from "../../../src/chat/core/chat-deliveries.js";
import { createChatDispatcher } from "../../../src/chat/core/chat-dispatcher.js";
import { resolveChatUser } from "../../../src/chat/core/chat-identity.js";
import { performCardAction } from "../../../src/chat/core/chat-interactions.js";
import { requestFormModel, submitRequestForm } from "../../../src/chat/core/request-form.js";
import { decideRequest } from "../../../src/services/decide-request.js";
import { submitRequest } from "../../../src/services/submit-request.js";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";

/** The chat core against a real database, with a recording adapter standing in for Slack or Teams. */

const POLICY = `
version: 1
people:
  - { id: alice, email: alice@example.com, name: Alice }
  - { id: bob, email: bob@example.com, name: Bob }
  - { id: carol, email: carol@example.com }
  - { id: erin, email: erin@example.com }
connectors:
  demo: { type: noop }
resources:
  prod-db: { connector: demo, description: Production database }
  staging: { connector: demo }
policies:
  - id: prod
    resources: [prod-db]
    requesters: { users: [alice, bob] }
    duration: { default: 1h, max: 4h }
    approvers: { users: [bob, carol] }
    ticket: { required: true, pattern: "^OPS-[0-9]+$", hint: "Use the OPS ticket, e.g. OPS-12." }
  - id: staging
    resources: [staging]
    requesters: { everyone: true }
    duration: { default: 30m, max: 2h }
    approvers: { users: [carol] }
    requiredApprovals: 1
`;

class RecordingAdapter implements ChatAdapter {
  readonly platform = "slack" as const;
  posts: { to: Recipient; card: Card }[] = [];
  updates: { address: MessageAddress; card: Card }[] = [];
  unreachable = new Set<string>(["erin"]);
  async registerRoutes() {}
  async start() {}
  async stop() {}
  async post(to: Recipient, card: Card) {
    if ("identityId" in to && this.unreachable.has(to.identityId)) return null;
    this.posts.push({ to, card });
    return { n: this.posts.length };
  }
  async update(address: MessageAddress, card: Card) {
    this.updates.push({ address, card });
  }
  reminders: { to: string; card: MessageAddress | null; text: string }[] = [];
  failReminders = 0;
  async remind(to: { identityId: string }, card: MessageAddress | null, text: string) {
    if (this.failReminders > 0) {
      this.failReminders -= 1;
      throw new Error("platform answered 500");
    }
    if (this.unreachable.has(to.identityId)) return false;
    this.reminders.push({ to: to.identityId, card, text });
    return true;
  }
}

let sesame: TestSesame;
beforeAll(async () => {
  sesame = await startSesame("chatcore", { policy: POLICY, identities: [], role: "web" });
});
afterAll(async () => sesame?.stop());

describe("text commands", () => {
  it("opens the form when there is no text, and explains itself on help", async () => {
    const deps = sesame.runtime.deps;
    expect(await runCommand(deps, "alice", "  ")).toEqual({ kind: "open_form" });
    const help = await runCommand(deps, "alice", "help");
    expect(help.kind === "reply" && help.text).toContain("/request-access <resource> <duration> <reason…>");
  });

  it.each([
    [
      "an unknown resource, naming what may be requested",
      "nope 1h why",
      /There is no resource "nope"\. You may request: prod-db, staging/,
    ],
    ["a duration that is not one", "staging soon why", /"soon" is not a duration\. .*up to 2h/],
    ["a duration over the policy maximum", "staging 3h why", /3h is too long: the maximum for staging is 2h/],
    [
      "a missing ticket, with the policy's hint",
      "prod-db 1h debugging",
      /A ticket is required for prod-db\. Use the OPS ticket/,
    ],
  ])("refuses %s and creates nothing", async (_what, text, message) => {
    const deps = sesame.runtime.deps;
    const before = await deps.store.listRequests({ requesterId: "alice" });
    const reply = await runCommand(deps, "alice", text);
    expect(reply.kind === "reply" && reply.text).toMatch(message);
    expect(await deps.store.listRequests({ requesterId: "alice" })).toHaveLength(before.length);
  });

  it("requests directly, with a ticket, lists it, and cancels it by its short id", async () => {
    const deps = sesame.runtime.deps;
    const reply = await runCommand(deps, "alice", "prod-db 2h ticket:OPS-7 looking at the slow query");
    expect(reply.kind === "reply" && reply.text).toMatch(/Requested prod-db for 2h\. Request ([0-9a-f]{8}) waits/);
    const shortId = (reply.kind === "reply" && /Request ([0-9a-f]{8})/.exec(reply.text)?.[1])!;
    const [created] = await deps.store.listRequests({ requesterId: "alice", status: ["pending"] });
    expect(created).toMatchObject({
      resourceId: "prod-db",
      durationSeconds: 7200,
      ticket: "OPS-7",
      reason: "looking at the slow query",
    });
    const list = await runCommand(deps, "alice", "list");
    expect(list.kind === "reply" && list.cards.map((c) => c.title)).toContain("Your request for prod-db (2h)");
    const bobList = await runCommand(deps, "bob", "list");
    expect(bobList.kind === "reply" && bobList.cards.some((c) => c.actions.some((a) => a.kind === "approve"))).toBe(
      true,
    );
    const cancelled = await runCommand(deps, "alice", `cancel ${shortId}`);
    expect(cancelled.kind === "reply" && cancelled.text).toBe("Your request was cancelled.");
    expect((await deps.store.getRequest(created!.id))?.status).toBe("cancelled");
    const again = await runCommand(deps, "bob", `cancel ${shortId}`);
    expect(again.kind === "reply" && again.text).toMatch(/You have no pending request/);
  });
});

describe("the request form", () => {
  it("offers only what the person may request, with durations up to the longest maximum", () => {
    const book = sesame.runtime.deps.policy();
    expect(requestFormModel(book, "alice").resources.map((r) => r.id)).toEqual(["prod-db", "staging"]);
    expect(requestFormModel(book, "carol").resources.map((r) => r.id)).toEqual(["staging"]);
    expect(requestFormModel(book, "carol").durations).toEqual(["15m", "30m", "1h", "2h"]);
    expect(requestFormModel(book, "alice").ticketRequired).toBe(true);
  });

  it("puts each refusal on the field it concerns and creates nothing", async () => {
    const deps = sesame.runtime.deps;
    expect(await submitRequestForm(deps, "carol", { resource: "prod-db", duration: "1h", reason: "x" })).toEqual({
      ok: false,
      errors: { resource: expect.stringMatching(/You may not request prod-db/) },
    });
    expect(await submitRequestForm(deps, "carol", { resource: "staging", duration: "9h", reason: "x" })).toEqual({
      ok: false,
      errors: { duration: expect.stringMatching(/maximum for staging is 2h/) },
    });
    expect(
      await submitRequestForm(deps, "alice", { resource: "prod-db", duration: "1h", reason: "x", ticket: "JIRA-1" }),
    ).toEqual({ ok: false, errors: { ticket: expect.stringMatching(/Use the OPS ticket/) } });
    expect(await submitRequestForm(deps, "carol", { resource: "staging", duration: "1h" })).toEqual({
      ok: false,
      errors: { reason: expect.stringMatching(/A reason is required/) },
    });
    expect(await deps.store.listRequests({ requesterId: "carol" })).toEqual([]);
    // carol is the only approver of staging: her own request could never be approved.
    expect(await submitRequestForm(deps, "carol", { resource: "staging", duration: "1h", reason: "deploy" })).toEqual({
      ok: false,
      errors: { resource: expect.stringMatching(/Nobody else can approve this/) },
    });
    const ok = await submitRequestForm(deps, "erin", { resource: "staging", duration: "1h", reason: "deploy" });
    expect(ok.ok && ok.request.status).toBe("pending");
  });
});

describe("chat identity", () => {
  it("links an account by its verified email once, and tells an unknown person what an admin must add", async () => {
    const store = sesame.runtime.chat.store;
    let lookups = 0;
    const lookup = async () => {
      lookups += 1;
      return "BOB@example.com";
    };
    expect(await resolveChatUser(store, "slack", "U0BOB", lookup)).toEqual({ identityId: "bob" });
    expect(await resolveChatUser(store, "slack", "U0BOB", lookup)).toEqual({ identityId: "bob" });
    expect(lookups).toBe(1);
    const stranger = await resolveChatUser(store, "slack", "U0EVE", async () => "eve@example.com");
    expect(stranger).toEqual({
      identityId: null,
      message: expect.stringContaining("no person in the policy file has your Slack email (eve@example.com)"),
    });
    const silent = await resolveChatUser(store, "teams", "aad-1", async () => undefined);
    expect(silent.identityId === null && silent.message).toContain("`teams: aad-1`");
  });
});

describe("delivering cards through an adapter", () => {
  it("posts each approver a card, skips the unreachable, and updates every copy after the decision", async () => {
    const deps = sesame.runtime.deps;
    const adapter = new RecordingAdapter();
    adapter.unreachable.add("carol");
    const dispatcher = createChatDispatcher(deps, sesame.runtime.chat.store, new Map([["slack", adapter]]));
    const runAll = async (notification: Parameters<typeof planChatJobs>[0]) => {
      for (const planned of planChatJobs(notification, ["slack"], () => "C0APPROVALS"))
        if (!planned.runAt) await dispatcher.run(planned.job);
    };
    const request = await submitRequest(deps, {
      requesterId: "alice",
      resourceId: "prod-db",
      duration: "1h",
      reason: "INC-9",
      ticket: "OPS-9",
    });
    await runAll({ type: "request.submitted", request });
    expect(adapter.posts.map((p) => p.to)).toEqual([
      { identityId: "bob" },
      { channel: "C0APPROVALS" },
      { identityId: "alice" },
    ]);
    const card = adapter.posts[0]!.card;
    expect(card.actions).toEqual([
      { kind: "approve", requestId: request.id, version: request.version },
      { kind: "deny", requestId: request.id, version: request.version },
    ]);
    expect(card.facts).toContainEqual({ label: "Ticket", value: "OPS-9" });
    expect(card.facts).toContainEqual({ label: "Policy", value: "policy prod: you are listed as a requester" });
    // A retried job does not post a second copy.
    await dispatcher.run({ kind: "approval_card", platform: "slack", requestId: request.id, recipient: "bob" });
    expect(adapter.posts).toHaveLength(3);

    const decided = await decideRequest(deps, {
      requestId: request.id,
      actorId: "bob",
      decision: "deny",
      expectedVersion: request.version,
      comment: "use staging",
    });
    await runAll({ type: "request.decided", request: decided });
    expect(adapter.updates).toHaveLength(2);
    for (const update of adapter.updates) {
      expect(update.card.actions).toEqual([]);
      expect(update.card.status?.text).toMatch(/^Denied by Bob \(bob\) at .* UTC: use staging$/);
    }
    expect(adapter.posts.at(-1)).toMatchObject({
      to: { identityId: "alice" },
      card: { title: "Your request for prod-db (1h) was denied" },
    });
  });

  it("reminds each pending approver with a message of its own, once per step, even when the job runs again", async () => {
    const deps = sesame.runtime.deps;
    const adapter = new RecordingAdapter();
    const dispatcher = createChatDispatcher(deps, sesame.runtime.chat.store, new Map([["slack", adapter]]));
    const request = await submitRequest(deps, {
      requesterId: "alice",
      resourceId: "prod-db",
      duration: "1h",
      reason: "INC-10",
      ticket: "OPS-10",
    });
    for (const planned of planChatJobs({ type: "request.submitted", request }, ["slack"], () => undefined))
      await dispatcher.run(planned.job);
    const planned = planChatJobs({ type: "request.reminder", request, step: 0 }, ["slack"], () => undefined);
    expect(planned.map((p) => p.job)).toEqual([
      { kind: "reminder", platform: "slack", requestId: request.id, step: 0, recipient: "bob" },
      { kind: "reminder", platform: "slack", requestId: request.id, step: 0, recipient: "carol" },
    ]);
    // The first send fails (the platform erred): the claim is given back, so the retry sends it.
    adapter.failReminders = 1;
    await expect(dispatcher.run(planned[0]!.job)).rejects.toThrow("platform answered 500");
    for (let run = 0; run < 3; run += 1) for (const { job } of planned) await dispatcher.run(job);
    expect(adapter.reminders.map((r) => r.to)).toEqual(["bob", "carol"]);
    const bobsCard = adapter.posts.find((p) => "identityId" in p.to && p.to.identityId === "bob")!;
    expect(adapter.reminders[0]!.card).toEqual({ n: adapter.posts.indexOf(bobsCard) + 1 });
    expect(adapter.reminders[0]!.text).toMatch(
      /^Reminder: Alice \(alice\) has been waiting since .* for your decision on prod-db for 1h/,
    );
    // Another step reminds again; a decided request reminds nobody.
    const next = planChatJobs({ type: "request.reminder", request, step: 2 }, ["slack"], () => undefined);
    await dispatcher.run(next[0]!.job);
    expect(adapter.reminders).toHaveLength(3);
    await decideRequest(deps, { requestId: request.id, actorId: "carol", decision: "deny", expectedVersion: 1 });
    await dispatcher.run(next[1]!.job);
    expect(adapter.reminders).toHaveLength(3);
  });

  it("answers a stale or foreign click with the reason, changing nothing", async () => {
    const deps = sesame.runtime.deps;
    const request = await submitRequest(deps, {
      requesterId: "alice",
      resourceId: "staging",
      duration: "30m",
      reason: "deploy",
    });
    const stale = await performCardAction(deps, "carol", {
      kind: "approve",
      requestId: request.id,
      version: request.version + 1,
    });
    expect(stale).toMatchObject({ ok: false, message: expect.stringMatching(/changed since your card was sent/) });
    const foreign = await performCardAction(deps, "bob", {
      kind: "approve",
      requestId: request.id,
      version: request.version,
    });
    expect(foreign).toEqual({ ok: false, message: expect.stringMatching(/not an approver/) });
    const self = await performCardAction(deps, "alice", { kind: "cancel", requestId: request.id });
    expect(self.ok).toBe(true);
    const late = await performCardAction(deps, "carol", {
      kind: "approve",
      requestId: request.id,
      version: request.version,
    });
    expect(late).toMatchObject({
      ok: false,
      message: expect.stringMatching(/cancelled/),
      request: { status: "cancelled" },
    });
  });
});
