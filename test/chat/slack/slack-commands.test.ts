import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";
import { waitFor } from "../../helpers/wait.js";
import { allText, buttons, buttonValue, landedAt } from "./slack-cards.js";
import {
  appHomeOpenedBody,
  blockActionPayload,
  interactionBody,
  postSigned,
  SIGNING_SECRET,
  selected,
  slashCommandBody,
  typed,
  viewSubmissionPayload,
} from "./slack-requests.js";
import { type RecordedCall, type SlackStandIn, startSlackStandIn } from "./slack-web-api-stand-in.js";

/** /request-access with text, the form's field errors, unknown people, App Home, and Extend / Relinquish. */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com, name: Alice, slack: U0ALICE }
  - { id: bob, email: bob@example.com, name: Bob, slack: U0BOB }
connectors:
  demo: { type: noop, config: {} }
resources:
  demo: { connector: demo, principal: "{{ id }}", description: A pretend database }
  quick: { connector: demo, principal: "{{ id }}", risk: low }
  sql-demo:
    connector: demo
    actions: { classes: { write: { approvers: { users: [alice] } } } }
policies:
  - id: sql-demo
    resources: [sql-demo]
    requesters: { users: [bob] }
    duration: { default: 30m, max: 2h }
    reason: { required: true }
    approvers: { users: [alice] }
  - id: demo
    resources: [demo]
    requesters: { users: [alice] }
    duration: { default: 30m, max: 2h }
    reason: { required: true }
    approvers: { users: [bob] }
  - id: quick
    resources: [quick]
    requesters: { users: [alice] }
    duration: { default: 15m, max: 1h }
    approvers: { users: [bob] }
    extension: { requiresApproval: false, maxTotal: 4h }
    autoApprove:
      - reason: Quick access is low risk
        resourceRisk: low
`;

let slack: SlackStandIn;
let sesame: TestSesame;
const FORM = "application/x-www-form-urlencoded";
let replies = 0;

beforeAll(async () => {
  slack = await startSlackStandIn();
  slack.users.set("U0STRANGER", "stranger@elsewhere.example");
  sesame = await startSesame("slack_commands", {
    policy,
    identities: ["alice", "bob"],
    env: { SLACK_BOT_TOKEN: "xoxb-test-token", SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl },
  });
});

afterAll(async () => {
  await sesame?.stop();
  await slack?.close();
});

/** Runs `/request-access <text>` and returns the ephemeral reply Sesame posted to the response_url. */
async function command(user: string, text: string): Promise<Record<string, any>> {
  const id = `r${++replies}`;
  const reply = await postSigned(sesame.baseUrl, slashCommandBody(user, text, slack.responseUrl(id)), FORM);
  expect(reply.status).toBe(200);
  const find = () => slack.callsTo("response_url").find((call) => call.path === `/respond/${id}`);
  await waitFor(async () => find() !== undefined, `reply to ${text}`);
  return find()!.params;
}

const requestCount = async () => sesame.runtime.db.accessRequest.count();

describe("/request-access <text>", () => {
  it("refuses an unknown resource, naming what may be requested; nothing is created", async () => {
    const before = await requestCount();
    const reply = await command("U0ALICE", "prod-everything 1h because");
    expect(reply).toMatchObject({ response_type: "ephemeral" });
    expect(reply.text).toMatch(
      /There is no resource "prod-everything"\. You may request: demo, quick\..*Nothing was requested/,
    );
    expect(await requestCount()).toBe(before);
  });

  it("refuses a bad duration and an over-limit one, naming the allowed values; nothing is created", async () => {
    const before = await requestCount();
    expect((await command("U0ALICE", "demo soon checking")).text).toMatch(
      /"soon" is not a duration.*up to 2h, e\.g\. 15m, 30m, 1h, 2h/,
    );
    expect((await command("U0ALICE", "demo 5h checking")).text).toMatch(/5h is too long: the maximum for demo is 2h/);
    expect(await requestCount()).toBe(before);
  });

  it("requests directly, lists, and answers help", async () => {
    expect((await command("U0ALICE", "demo 1h checking the replica ticket:OPS-1")).text).toMatch(
      /Requested demo for 1h/,
    );
    const list = await command("U0ALICE", "list");
    expect(list.text).toMatch(/1 pending request/);
    expect(buttons({ method: "response_url", params: list, result: {}, at: 0 }).map((b) => b.action_id)).toContain(
      "sesame_cancel",
    );
    expect((await command("U0ALICE", "help")).text).toContain("/request-access relinquish &lt;id&gt;");
  });

  it("run: asks for one exact statement as typed (Slack's &lt; &gt; &amp; undone, line breaks kept), the reason on its last line", async () => {
    const reply = await command("U0BOB", "run sql-demo UPDATE t SET a = 'x &amp; y'\n WHERE b &lt; 3\nreason: OPS-7");
    expect(reply.text).toMatch(/Asked to run one write statement on sql-demo \(sha256 [0-9a-f]{12}…\)/);
    const [request] = await sesame.runtime.deps.store.listRequests({ requesterId: "bob", resourceId: "sql-demo" });
    expect(request?.snapshot.action?.text).toBe("UPDATE t SET a = 'x & y'\n WHERE b < 3");
    expect(request?.reason).toBe("OPS-7");
    expect((await command("U0BOB", "run sql-demo DROP TABLE t\nreason: no")).text).toMatch(
      /refuses DDL.*Nothing was requested/,
    );
  });

  it("run: once approved, the requester is told the outcome and the approver's card ends with it", async () => {
    // The noop connector cannot run SQL: the run ends as failed, which is what both are told.
    const reply = await command("U0BOB", "run sql-demo SELECT 41 + 1\nreason: OPS-8");
    expect(reply.text).toMatch(/Asked to run one read statement on sql-demo/);
    const [request] = await sesame.runtime.deps.store.listRequests({
      requesterId: "bob",
      resourceId: "sql-demo",
      status: ["pending"],
    });
    const card = () =>
      slack
        .callsTo("chat.postMessage")
        .find((call) => call.params.channel === "U0ALICE" && allText(call).includes("SELECT 41 + 1"));
    await waitFor(async () => card() !== undefined, "alice's approval card");
    const approved = await sesame.api("alice", "POST", `/api/v1/requests/${request!.id}/approve`, {});
    expect(approved.body.action).toMatchObject({
      status: "failed",
      result: { error: "connector demo cannot run actions" },
    });
    const told = () =>
      slack
        .callsTo("chat.postMessage")
        .find((call) => call.params.channel === "U0BOB" && /Your action on sql-demo ended: failed/.test(allText(call)));
    await waitFor(async () => told() !== undefined, "bob told the outcome");
    expect(allText(told()!)).toContain("connector demo cannot run actions");
    await waitFor(
      async () => slack.callsTo("chat.update").some((call) => /Action outcome: failed/.test(allText(call))),
      "alice's card showing the outcome",
    );
  });

  it("tells a Slack user Sesame does not know what an admin must add", async () => {
    const reply = await command("U0STRANGER", "list");
    expect(reply.text).toContain("no person in the policy file has your Slack email (stranger@elsewhere.example)");
    expect(reply.text).toContain("slack: U0STRANGER");
  });
});

describe("the request form", () => {
  it("shows only what the person may request, and returns refusals as field errors", async () => {
    await postSigned(sesame.baseUrl, slashCommandBody("U0ALICE", "", slack.responseUrl("form")), FORM);
    await waitFor(
      async () => slack.callsTo("views.open").some((call) => call.params.view?.callback_id === "sesame_request_form"),
      "form",
    );
    const view = slack.callsTo("views.open").find((call) => call.params.view?.callback_id === "sesame_request_form")!
      .params.view;
    const resourceOptions = view.blocks
      .find((b: { block_id?: string }) => b.block_id === "resource")
      .element.options.map((o: { value: string }) => o.value);
    expect(resourceOptions).toEqual(["demo", "quick"]);

    const before = await requestCount();
    const over = await postSigned(
      sesame.baseUrl,
      interactionBody(
        viewSubmissionPayload("U0ALICE", "sesame_request_form", {
          resource: selected("quick"),
          duration: selected("2h"),
          reason: typed(""),
          ticket: typed(""),
        }),
      ),
      FORM,
    );
    expect(over.json).toEqual({
      response_action: "errors",
      errors: { duration: "2h is too long: the maximum for quick is 1h." },
    });
    const noReason = await postSigned(
      sesame.baseUrl,
      interactionBody(
        viewSubmissionPayload("U0ALICE", "sesame_request_form", {
          resource: selected("demo"),
          duration: selected("1h"),
          reason: typed(" "),
          ticket: typed(""),
        }),
      ),
      FORM,
    );
    expect(noReason.json).toEqual({ response_action: "errors", errors: { reason: "A reason is required for demo." } });
    expect(await requestCount()).toBe(before);
  });

  it("offers 'Run one action' (multi-line) for resources with actions; runs exactly the typed text", async () => {
    const alicesForm = slack
      .callsTo("views.open")
      .find((call) => call.params.view?.callback_id === "sesame_request_form")!.params.view;
    expect(alicesForm.blocks.some((b: { block_id?: string }) => b.block_id === "action")).toBe(false);
    const opened = slack.callsTo("views.open").length;
    await postSigned(sesame.baseUrl, slashCommandBody("U0BOB", "", slack.responseUrl("bob-form")), FORM);
    await waitFor(async () => slack.callsTo("views.open").length > opened, "bob's form");
    const view = slack.callsTo("views.open").at(-1)!.params.view;
    const field = view.blocks.find((b: { block_id?: string }) => b.block_id === "action");
    expect(field).toMatchObject({ optional: true, element: { type: "plain_text_input", multiline: true } });
    expect(field.hint.text).toMatch(/run once after approval, exactly as typed.*sql-demo/);

    const submit = (action: string) =>
      postSigned(
        sesame.baseUrl,
        interactionBody(
          viewSubmissionPayload("U0BOB", "sesame_request_form", {
            resource: selected("sql-demo"),
            duration: selected("30m"),
            reason: typed("OPS-9"),
            ticket: typed(""),
            action: typed(action),
          }),
        ),
        FORM,
      );
    const refused = await submit("DROP TABLE t");
    expect(refused.json).toMatchObject({
      response_action: "errors",
      errors: { action: expect.stringMatching(/refuses DDL/) },
    });
    const text = "UPDATE t SET a = 1\n  WHERE b = 2";
    const accepted = await submit(text);
    expect(accepted.status).toBe(200);
    expect(accepted.json?.response_action).not.toBe("errors");
    const requests = await sesame.runtime.deps.store.listRequests({ requesterId: "bob", resourceId: "sql-demo" });
    const made = requests.find((r) => r.snapshot.action?.text === text);
    expect(made).toMatchObject({ reason: "OPS-9", durationSeconds: 0, snapshot: { action: { class: "write" } } });
  });
});

describe("App Home, Extend and Relinquish", () => {
  async function grantedDm(): Promise<RecordedCall> {
    const find = () =>
      slack
        .callsTo("chat.postMessage")
        .find((call) => call.params.channel === "U0ALICE" && /access to quick is active/.test(allText(call)));
    await waitFor(async () => find() !== undefined, "granted DM");
    return find()!;
  }

  it("shows pending requests, grants and approvals on App Home, with their buttons", async () => {
    expect((await command("U0ALICE", "quick 15m trying things")).text).toMatch(/Auto-approved/);
    await grantedDm();
    const published = slack.callsTo("views.publish").length;
    await postSigned(sesame.baseUrl, appHomeOpenedBody("U0ALICE"), "application/json");
    await postSigned(sesame.baseUrl, appHomeOpenedBody("U0BOB"), "application/json");
    await waitFor(async () => slack.callsTo("views.publish").length >= published + 2, "two homes");
    const home = (user: string) =>
      slack
        .callsTo("views.publish")
        .filter((call) => call.params.user_id === user)
        .at(-1)!;
    const alice = home("U0ALICE");
    expect(alice.params.view.type).toBe("home");
    expect(alice.params.view.blocks.length).toBeLessThanOrEqual(100);
    expect(buttons(alice).map((b) => b.action_id)).toEqual(
      expect.arrayContaining(["sesame_cancel", "sesame_extend", "sesame_relinquish"]),
    );
    expect(buttons(home("U0BOB")).map((b) => b.action_id)).toEqual(
      expect.arrayContaining(["sesame_approve", "sesame_deny"]),
    );
  });

  it("extends from the granted DM through a modal with the durations the policy still allows", async () => {
    const dm = await grantedDm();
    const opens = slack.callsTo("views.open").length;
    await postSigned(
      sesame.baseUrl,
      interactionBody(blockActionPayload("U0ALICE", "sesame_extend", buttonValue(dm, "sesame_extend"), landedAt(dm))),
      FORM,
    );
    await waitFor(async () => slack.callsTo("views.open").length > opens, "extend modal");
    const view = slack.callsTo("views.open").at(-1)!.params.view;
    expect(view.callback_id).toBe("sesame_extend");
    const durations = view.blocks
      .find((b: { block_id?: string }) => b.block_id === "duration")
      .element.options.map((o: { value: string }) => o.value);
    expect(durations).toContain("30m");
    await postSigned(
      sesame.baseUrl,
      interactionBody(
        viewSubmissionPayload("U0ALICE", "sesame_extend", { duration: selected("30m") }, view.private_metadata),
      ),
      FORM,
    );
    await waitFor(
      async () =>
        slack
          .callsTo("chat.postEphemeral")
          .some((call) => call.params.user === "U0ALICE" && /^Extended/.test(String(call.params.text))),
      "extended",
    );
  });

  it("tells the requester the auto-approval rule, and warns before the end with an Extend button", async () => {
    const dms = () =>
      slack
        .callsTo("chat.postMessage")
        .filter((call) => call.params.channel === "U0ALICE")
        .map(allText);
    expect(
      dms().some((text) => /was auto-approved/.test(text) && text.includes("Rule: Quick access is low risk")),
    ).toBe(true);
    // Expiry warnings are delayed chat jobs (one per end time; the grant was extended above): bring them forward.
    const warnings = (await sesame.runtime.chat.queue.queue.getDelayed()).filter(
      (job) => job.data.kind === "grant_notice" && job.data.notice === "expiring",
    );
    expect(warnings.length).toBeGreaterThan(0);
    for (const warning of warnings) await warning.promote();
    await waitFor(async () => dms().some((text) => /access to quick ends at/.test(text)), "expiring DM");
    const expiring = slack
      .callsTo("chat.postMessage")
      .find((call) => call.params.channel === "U0ALICE" && /access to quick ends at/.test(allText(call)))!;
    expect(buttons(expiring).map((b) => b.action_id)).toEqual(["sesame_extend", "sesame_relinquish"]);
  });

  it("relinquishes from App Home and redraws it", async () => {
    const dm = await grantedDm();
    const published = slack.callsTo("views.publish").length;
    await postSigned(
      sesame.baseUrl,
      interactionBody(blockActionPayload("U0ALICE", "sesame_relinquish", buttonValue(dm, "sesame_relinquish"), "home")),
      FORM,
    );
    await waitFor(async () => slack.callsTo("views.publish").length > published, "home redrawn");
    // No channel behind App Home: the outcome comes as a DM.
    await waitFor(
      async () =>
        slack
          .callsTo("chat.postMessage")
          .some(
            (call) => call.params.channel === "U0ALICE" && /access is being removed/.test(String(call.params.text)),
          ),
      "relinquish DM",
    );
    const grantId = JSON.parse(buttonValue(dm, "sesame_relinquish")).grantId as string;
    await waitFor(
      async () => (await sesame.api("alice", "GET", `/api/v1/grants/${grantId}`)).body.status === "revoked",
      "revoked",
    );
    // The DM that carried the Relinquish button does not stay on "active" or "revoking": it is redrawn as revoked.
    const where = landedAt(dm);
    await waitFor(
      async () =>
        slack
          .callsTo("chat.update")
          .some(
            (call) => call.params.ts === where.ts && /quick: revoked/.test(allText(call)) && buttons(call).length === 0,
          ),
      "the granted DM redrawn as revoked",
    );
  });
});
