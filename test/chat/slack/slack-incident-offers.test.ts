import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deliverWebhook,
  incidentWebhook,
  type PagerDutyStandIn,
  startPagerDutyStandIn,
} from "../../helpers/pagerduty-stand-in.js";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";
import { waitFor } from "../../helpers/wait.js";
import { allText, buttonValue, landedAt } from "./slack-cards.js";
import { blockActionPayload, interactionBody, postSigned, SIGNING_SECRET } from "./slack-requests.js";
import { type RecordedCall, type SlackStandIn, startSlackStandIn } from "./slack-web-api-stand-in.js";

/**
 * Incident access offered as a one-click Slack card (`incidentAccess` with `grant: offer`): the
 * Slack Web API and PagerDuty's REST API are local stand-ins (no real servers run here). The click
 * goes through the durable chat intake like any other.
 */

const SECRET = "pd-webhook-secret-0123456789abcdef";
const FORM = "application/x-www-form-urlencoded";
const policy = `
version: 1
people:
  - { id: carol, email: carol@example.com, name: Carol, slack: U0CAROL }
  - { id: mallory, email: mallory@example.com, name: Mallory, slack: U0MALLORY }
  - { id: erin, email: erin@example.com, name: Erin, slack: U0ERIN }
  - { id: dave, email: dave@example.com, name: Dave, admin: true }
connectors:
  demo: { type: noop }
resources:
  incident-db: { connector: demo, target: { role: incident } }
policies:
  - id: incident-db
    resources: [incident-db]
    requesters: { users: [carol, mallory, erin] }
    duration: { default: 1h, max: 4h }
    approvers: { users: [dave] }
incidentAccess:
  - services: [PSVC001]
    resources: [incident-db]
    maxDuration: 2h
    grant: offer
`;

let slack: SlackStandIn;
let pagerDuty: PagerDutyStandIn;
let sesame: TestSesame;

beforeAll(async () => {
  slack = await startSlackStandIn();
  pagerDuty = await startPagerDutyStandIn({ PCAROL: "carol@example.com", PERIN: "erin@example.com" });
  sesame = await startSesame("slack_incident_offers", {
    policy,
    identities: ["carol", "mallory", "erin", "dave"],
    env: {
      SLACK_BOT_TOKEN: "xoxb-test-token",
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      PAGERDUTY_WEBHOOK_SECRET: SECRET,
      PAGERDUTY_API_TOKEN: pagerDuty.token,
      PAGERDUTY_API_URL: pagerDuty.apiUrl,
    },
  });
});

afterAll(async () => {
  await sesame?.stop();
  await slack?.close();
  await pagerDuty?.close();
});

async function deliver(body: Record<string, unknown>): Promise<void> {
  const id = await deliverWebhook(sesame.baseUrl, SECRET, body);
  await waitFor(async () => {
    const row = await sesame.runtime.db.inboundEvent.findUnique({ where: { id } });
    return row?.status === "done" || row?.status === "failed";
  }, "the PagerDuty event to be processed");
}

async function offerCardFor(incidentId: string): Promise<RecordedCall> {
  const find = () =>
    slack
      .callsTo("chat.postMessage")
      .find((call) => call.params.channel === "U0CAROL" && allText(call).includes(`/incidents/${incidentId}`));
  await waitFor(async () => find() !== undefined, `the offer card of ${incidentId}`);
  return find()!;
}

async function click(user: string, card: RecordedCall, value = buttonValue(card, "sesame_activate")) {
  const payload = blockActionPayload(user, "sesame_activate", value, landedAt(card));
  const answer = await postSigned(sesame.baseUrl, interactionBody(payload), FORM);
  expect(answer.status).toBe(200);
  return payload.trigger_id as string;
}

async function toldTo(user: string, pattern: RegExp): Promise<string> {
  const find = () =>
    slack
      .callsTo("chat.postEphemeral")
      .find((call) => call.params.user === user && pattern.test(String(call.params.text)));
  await waitFor(async () => find() !== undefined, `ephemeral to ${user} matching ${pattern}`);
  return String(find()!.params.text);
}

const incidentRequests = async (incidentId: string) =>
  (await sesame.runtime.deps.store.listRequests({})).filter(
    (r) => r.snapshot.trigger?.kind === "pagerduty" && r.snapshot.trigger.incidentId === incidentId,
  );

describe("incident access offered in Slack", () => {
  it("acknowledged: the assignee gets a one-click card and nothing is granted yet", async () => {
    await deliver(incidentWebhook("incident.acknowledged", { id: "POFF1" }));
    const card = await offerCardFor("POFF1");
    expect(String(card.params.text)).toContain("Activate access to incident-db for INC #42: Database latency");
    expect(allText(card)).toContain("https://acme.pagerduty.com/incidents/POFF1");
    expect(await incidentRequests("POFF1")).toEqual([]);
    const offered = await sesame.runtime.db.auditEvent.findMany({ where: { type: "incident.access_offered" } });
    expect(offered.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ resourceId: "incident-db", trigger: expect.objectContaining({ incidentId: "POFF1" }) }),
    );
  });

  it("someone else's click grants nothing; the assignee's click grants it, with the incident as trigger", async () => {
    const card = await offerCardFor("POFF1");
    await click("U0MALLORY", card);
    expect(await toldTo("U0MALLORY", /not yours/)).toContain("Nothing was granted");
    expect(await incidentRequests("POFF1")).toEqual([]);

    const triggerId = await click("U0CAROL", card);
    expect(await toldTo("U0CAROL", /^Activated/)).toContain("INC #42");
    const [request] = await incidentRequests("POFF1");
    expect(request).toMatchObject({ requesterId: "carol", resourceId: "incident-db", status: "approved" });
    expect(request!.durationSeconds).toBe(7200);
    expect(request!.snapshot.trigger).toEqual({
      kind: "pagerduty",
      incidentId: "POFF1",
      number: 42,
      title: "Database latency",
      url: "https://acme.pagerduty.com/incidents/POFF1",
    });
    expect(request!.autoApprovalReason).toContain("activated by its assignee");
    // Stored before it was acknowledged, and worked from the stored row.
    // (Marked done once its work ended, which may be just after the reply.)
    const statuses = async () =>
      (await sesame.runtime.db.chatIntake.findMany({ where: { key: `action-${triggerId}` } })).map((row) => row.status);
    await waitFor(async () => (await statuses()).join() === "done", "the stored click to be marked done");
    expect(await statuses()).toEqual(["done"]);
    await waitFor(
      async () => (await sesame.runtime.deps.store.getGrantByRequest(request!.id))?.status === "active",
      "carol's grant to be active",
    );
  });

  it("a second click does nothing new", async () => {
    const card = await offerCardFor("POFF1");
    await click("U0CAROL", card);
    expect(await toldTo("U0CAROL", /^Already activated/)).toContain("nothing new was requested");
    expect(await incidentRequests("POFF1")).toHaveLength(1);
  });

  it("a click after the incident was resolved grants nothing and says so", async () => {
    await deliver(incidentWebhook("incident.acknowledged", { id: "POFF2", number: 43 }));
    const card = await offerCardFor("POFF2");
    await deliver(incidentWebhook("incident.resolved", { id: "POFF2", number: 43 }));
    await click("U0CAROL", card);
    expect(await toldTo("U0CAROL", /resolved/)).toMatch(/Nothing was granted/);
    expect(await incidentRequests("POFF2")).toEqual([]);
    // The card is redrawn without its button, saying why.
    await waitFor(
      async () =>
        slack
          .callsTo("chat.update")
          .some((call) => call.params.ts === card.result.ts && allText(call).includes("Nothing to activate")),
      "the offer card redrawn",
    );
  });

  it("a click after PagerDuty resolved the incident grants nothing, even before its resolve webhook arrives", async () => {
    await deliver(incidentWebhook("incident.acknowledged", { id: "POFF4", number: 45 }));
    const card = await offerCardFor("POFF4");
    pagerDuty.incidentStatus.set("POFF4", "resolved");
    await click("U0CAROL", card);
    expect(await toldTo("U0CAROL", /INC #45: Database latency is resolved/)).toMatch(/nothing was granted/);
    expect(await incidentRequests("POFF4")).toEqual([]);
  });

  it("reassigned before the click: the previous assignee's offer grants nothing, the new assignee gets one", async () => {
    await deliver(incidentWebhook("incident.acknowledged", { id: "POFF3", number: 44 }));
    const card = await offerCardFor("POFF3");
    await deliver(incidentWebhook("incident.reassigned", { id: "POFF3", number: 44, assignees: ["PERIN"] }));
    await waitFor(
      async () =>
        slack
          .callsTo("chat.postMessage")
          .some((call) => call.params.channel === "U0ERIN" && allText(call).includes("/incidents/POFF3")),
      "erin's offer card",
    );
    await click("U0CAROL", card);
    expect(await toldTo("U0CAROL", /reassigned/)).toMatch(/Nothing was granted/);
    expect(await incidentRequests("POFF3")).toEqual([]);
  });

  it("resolved while the click was being worked: the grant it made is taken back", async () => {
    await deliver(incidentWebhook("incident.acknowledged", { id: "POFF5", number: 46 }));
    const card = await offerCardFor("POFF5");
    // The resolve is stored between the click's first look and the end of its activation: the
    // resolve handler found no grant yet, so the activation must take back what it made.
    const offers = sesame.runtime.deps.offers!;
    const resolveReceived = offers.resolveReceived;
    let looks = 0;
    offers.resolveReceived = async (incidentId) => {
      looks += 1;
      return incidentId === "POFF5" ? looks > 1 : resolveReceived(incidentId);
    };
    try {
      await click("U0CAROL", card);
      expect(await toldTo("U0CAROL", /Nothing stays granted/)).toMatch(/resolved/);
    } finally {
      offers.resolveReceived = resolveReceived;
    }
    const [request] = await incidentRequests("POFF5");
    await waitFor(
      async () => (await sesame.runtime.deps.store.getGrantByRequest(request!.id))?.status === "revoked",
      "the grant made after the resolve to be revoked",
    );
  });

  it("resolving an activated incident revokes the grant like any incident access", async () => {
    const [request] = await incidentRequests("POFF1");
    await deliver(incidentWebhook("incident.resolved", { id: "POFF1" }));
    await waitFor(
      async () => (await sesame.runtime.deps.store.getGrantByRequest(request!.id))?.status === "revoked",
      "the grant to be revoked",
    );
  });
});
