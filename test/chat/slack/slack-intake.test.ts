import { parse as parseQuery } from "node:querystring";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { intakeOf } from "../../../src/chat/slack/slack-intake.js";
import { tellFailed } from "../../../src/chat/slack/slack-intake-replies.js";
import { startIntakeWorker } from "../../../src/jobs/chat-intake-worker.js";
import { createChatIntakeRepository } from "../../../src/storage/chat-intake-repository.js";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";
import { waitFor } from "../../helpers/wait.js";
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
 * Durable chat intake against a local Slack Web API stand-in (no real Slack here): every signed
 * command and click is stored before its ack, keyed by trigger_id; a burst is all applied or
 * reported, a replay changes nothing, and a stored action outlives the process that acknowledged it.
 */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com, name: Alice, slack: U0ALICE }
  - { id: bob, email: bob@example.com, name: Bob, slack: U0BOB }
connectors:
  demo: { type: noop, config: {} }
resources:
  demo: { connector: demo, principal: "{{ id }}" }
policies:
  - id: demo
    resources: [demo]
    requesters: { users: [alice] }
    duration: { default: 30m, max: 2h }
    approvers: { users: [bob] }
`;

let slack: SlackStandIn;
let sesame: TestSesame;
const FORM = "application/x-www-form-urlencoded";

beforeAll(async () => {
  slack = await startSlackStandIn();
  sesame = await startSesame("slack_intake", {
    policy,
    identities: ["alice", "bob"],
    env: { SLACK_BOT_TOKEN: "xoxb-test-token", SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl },
  });
});

afterAll(async () => {
  await sesame?.stop();
  await slack?.close();
});

const requestCount = () => sesame.runtime.db.accessRequest.count();
const replyTo = (id: string) => slack.callsTo("response_url").filter((call) => call.path === `/respond/${id}`);

describe("durable Slack intake", () => {
  it("stores a command before its ack, with response_url sealed; a replay creates no second request", async () => {
    const before = await requestCount();
    const body = slashCommandBody("U0ALICE", "demo 30m checking replays", slack.responseUrl("replayed"));
    const replies = await Promise.all([1, 2, 3].map(() => postSigned(sesame.baseUrl, body, FORM)));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    await waitFor(async () => replyTo("replayed").length > 0, "the reply");
    expect(replyTo("replayed")[0]!.params.text).toMatch(/Requested demo for 30m/);
    expect(await requestCount()).toBe(before + 1);
    // A later replay, after the work is done, is still recognised.
    expect((await postSigned(sesame.baseUrl, body, FORM)).status).toBe(200);
    const trigger = String(parseQuery(body).trigger_id);
    // Marked done once its work ended, which may be just after the reply.
    await waitFor(
      async () =>
        (await sesame.runtime.db.chatIntake.findFirst({ where: { platform: "slack", key: `command-${trigger}` } }))
          ?.status === "done",
      "the stored command to be marked done",
    );
    const rows = await sesame.runtime.db.chatIntake.findMany({ where: { platform: "slack" } });
    const row = rows.find((r) => r.key === `command-${trigger}`)!;
    expect(rows.filter((r) => r.key === `command-${trigger}`)).toHaveLength(1);
    expect(row.status).toBe("done");
    expect(JSON.stringify(row)).not.toContain("/respond/replayed");
    expect(JSON.stringify(row.payload)).not.toContain("deprecated-verification-token");
    expect(row.sealedReply).toMatch(/^v1\./);
    expect(await requestCount()).toBe(before + 1);
  });

  it("applies or reports every one of a burst of 50 signed clicks and 50 commands, 20 at a time", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i += 1) {
      const created = await sesame.api("alice", "POST", "/api/v1/requests", {
        resource: "demo",
        duration: "30m",
        reason: "burst",
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      ids.push(created.body.id as string);
    }
    const before = await requestCount();
    // Buttons as Sesame draws them (encodeAction): waiting for the paced cards would only slow the test.
    const value = (requestId: string) => JSON.stringify({ kind: "approve", requestId, version: 1 });
    const where = { channel: "D0BOB", ts: "1700000000.000100" };
    const posts = [
      ...ids.map(
        (id) => () =>
          postSigned(
            sesame.baseUrl,
            interactionBody(blockActionPayload("U0BOB", "sesame_approve", value(id), where)),
            FORM,
          ),
      ),
      ...ids.map(
        (_, i) => () =>
          postSigned(
            sesame.baseUrl,
            slashCommandBody("U0ALICE", `demo 30m burst ${i}`, slack.responseUrl(`b${i}`)),
            FORM,
          ),
      ),
    ];
    const statuses: number[] = [];
    for (let i = 0; i < posts.length; i += 20)
      statuses.push(...(await Promise.all(posts.slice(i, i + 20).map((post) => post()))).map((r) => r.status));
    expect(statuses.every((status) => status === 200)).toBe(true);

    await waitFor(
      async () => (await sesame.runtime.db.chatIntake.count({ where: { status: "received" } })) === 0,
      "every stored action to finish",
      90_000,
    );
    const approved = await sesame.runtime.db.accessRequest.count({ where: { id: { in: ids }, status: "approved" } });
    const failedRows = await sesame.runtime.db.chatIntake.count({ where: { status: "failed" } });
    const toldApprover = slack.callsTo("chat.postEphemeral").filter((c) => c.params.user === "U0BOB").length;
    // Applied, or the person was told: every click answered the clicker, every command its response_url.
    expect(approved + failedRows).toBeGreaterThanOrEqual(50);
    expect(toldApprover).toBeGreaterThanOrEqual(50);
    for (let i = 0; i < 50; i += 1) expect(replyTo(`b${i}`).length).toBeGreaterThan(0);
    expect((await requestCount()) - before).toBe(50 - failedRows);
  }, 180_000);

  it("applies an action stored by a process that died right after the ack, from a fresh worker", async () => {
    const before = await requestCount();
    const body = slashCommandBody("U0ALICE", "demo 30m stored then crashed", slack.responseUrl("orphan"));
    const entry = intakeOf(parseQuery(body) as Record<string, unknown>)!.entry;
    // What the acknowledging process did before it died: the row is stored, no job was queued.
    const repo = createChatIntakeRepository(sesame.runtime.db, sesame.runtime.deps.secrets);
    expect(await repo.insert("00000000-0000-4000-8000-00000000dead", entry)).toBeDefined();
    sesame.clock.travelTo(new Date(Date.now() + 120_000));
    const fresh = startIntakeWorker(sesame.runtime.chat.intake, sesame.runtime.logger, {
      redisUrl: sesame.runtime.env.REDIS_URL,
      prefix: sesame.prefix,
      concurrency: 2,
      redisHealth: sesame.runtime.redisHealth,
    });
    try {
      await waitFor(async () => replyTo("orphan").length > 0, "the stored command's reply");
    } finally {
      sesame.clock.reset();
      await fresh.close();
    }
    expect(replyTo("orphan")[0]!.params.text).toMatch(/Requested demo for 30m/);
    expect(await requestCount()).toBe(before + 1);
  });

  it("keeps a request form's key only once a request is made: a corrected resubmit works, a replay does not", async () => {
    const before = await requestCount();
    const form = (reason: string) => {
      const payload = viewSubmissionPayload("U0ALICE", "sesame_request_form", {
        resource: selected("demo"),
        duration: selected("30m"),
        reason: typed(reason),
        ticket: typed(""),
      });
      (payload.view as { id: string }).id = "V0SAMEFORM";
      return interactionBody(payload);
    };
    const refused = await postSigned(sesame.baseUrl, form(" "), FORM);
    expect(refused.json).toMatchObject({ response_action: "errors" });
    expect(await requestCount()).toBe(before);
    const corrected = form("now with a reason");
    expect((await postSigned(sesame.baseUrl, corrected, FORM)).status).toBe(200);
    expect(await requestCount()).toBe(before + 1);
    expect((await postSigned(sesame.baseUrl, corrected, FORM)).status).toBe(200);
    expect(await requestCount()).toBe(before + 1);
    const statuses = async () =>
      (await sesame.runtime.db.chatIntake.findMany({ where: { key: "view-V0SAMEFORM" } })).map((row) => row.status);
    await waitFor(async () => (await statuses()).join() === "done", "the stored form to be marked done");
    expect(await statuses()).toEqual(["done"]);
  });

  it("tells the person of a failure for good through response_url, or by DM when there is none", async () => {
    const logger = sesame.runtime.logger;
    const stored = {
      id: "x",
      platform: "slack" as const,
      kind: "action",
      key: "k1",
      payload: { user: { id: "U0ALICE" } },
    };
    await tellFailed({ ...stored, replyTo: slack.responseUrl("failed-for-good") }, undefined, logger);
    expect(replyTo("failed-for-good")[0]!.params).toMatchObject({ response_type: "ephemeral" });
    expect(replyTo("failed-for-good")[0]!.params.text).toMatch(/could not finish what you just did/);
    // Only DMs saying so: alice's notifications from earlier tests may still be arriving meanwhile.
    const dms = () =>
      slack
        .callsTo("chat.postMessage")
        .filter(
          (c) => c.params.channel === "U0ALICE" && /could not finish what you just did/.test(String(c.params.text)),
        );
    const dmsBefore = dms().length;
    const { WebClient } = await import("@slack/web-api");
    await tellFailed(stored, new WebClient("xoxb-test-token", { slackApiUrl: slack.apiUrl }), logger);
    expect(dms().length).toBe(dmsBefore + 1);
  });

  it("opens the Deny modal at once (its trigger id lives 3 s), once per click however often it is replayed", async () => {
    const created = await sesame.api("alice", "POST", "/api/v1/requests", { resource: "demo", reason: "deny me" });
    const value = JSON.stringify({ kind: "deny", requestId: created.body.id, version: 1 });
    const payload = blockActionPayload("U0BOB", "sesame_deny", value, { channel: "D0BOB", ts: "1700000000.000200" });
    const opens = () => slack.callsTo("views.open").filter((c) => c.params.trigger_id === payload.trigger_id).length;
    const replies = await Promise.all([1, 2].map(() => postSigned(sesame.baseUrl, interactionBody(payload), FORM)));
    expect(replies.map((r) => r.status)).toEqual([200, 200]);
    await waitFor(async () => opens() === 1, "the deny modal");
    const rows = await sesame.runtime.db.chatIntake.findMany({ where: { key: `action-${payload.trigger_id}` } });
    await waitFor(
      async () =>
        (await sesame.runtime.db.chatIntake.findFirst({ where: { key: `action-${payload.trigger_id}` } }))?.status ===
        "done",
      "the click to finish",
    );
    expect(rows).toHaveLength(1);
    expect(opens()).toBe(1);
  });
});
