import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deliverWebhook,
  incidentWebhook,
  type PagerDutyStandIn,
  startPagerDutyStandIn,
} from "../../helpers/pagerduty-stand-in.js";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";
import { waitFor } from "../../helpers/wait.js";
import { type ConnectorStandIn, startConnectorStandIn } from "./connector-stand-in.js";
import { adaptiveCardProblems } from "./schemas.js";
import { personalConversation, TeamsClient, teamsUser } from "./teams-client.js";

/**
 * Incident access offered as a one-click Teams card (`grant: offer`): activities posted to
 * /api/messages, replies to a local Bot Connector stand-in, PagerDuty's REST API a local stand-in
 * (no real Teams or PagerDuty server runs here).
 */

type Json = Record<string, any>;
const SECRET = "pd-webhook-secret-0123456789abcdef";
const carol = teamsUser("carol");
const mallory = teamsUser("mallory");
const policy = `
version: 1
people:
  - { id: carol, email: carol@example.com, name: Carol, teams: ${carol.aadObjectId} }
  - { id: mallory, email: mallory@example.com, name: Mallory, teams: ${mallory.aadObjectId} }
  - { id: dave, email: dave@example.com, name: Dave, admin: true }
connectors:
  demo: { type: noop }
resources:
  incident-db: { connector: demo, target: { role: incident } }
policies:
  - id: incident-db
    resources: [incident-db]
    requesters: { users: [carol, mallory] }
    duration: { default: 1h, max: 4h }
    approvers: { users: [dave] }
incidentAccess:
  - services: [PSVC001]
    resources: [incident-db]
    maxDuration: 2h
    grant: offer
`;

let standIn: ConnectorStandIn;
let pagerDuty: PagerDutyStandIn;
let sesame: TestSesame;
let client: TeamsClient;

beforeAll(async () => {
  standIn = await startConnectorStandIn();
  pagerDuty = await startPagerDutyStandIn({ PCAROL: "carol@example.com" });
  sesame = await startSesame("teams_incident_offers", {
    policy,
    identities: ["carol", "mallory", "dave"],
    env: {
      TEAMS_DEV_NO_AUTH: "true",
      NODE_ENV: "development",
      PAGERDUTY_WEBHOOK_SECRET: SECRET,
      PAGERDUTY_API_TOKEN: pagerDuty.token,
      PAGERDUTY_API_URL: pagerDuty.apiUrl,
    },
  });
  client = new TeamsClient(sesame.baseUrl, standIn.url);
  expect((await client.installationUpdate(carol)).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await sesame?.stop();
  await standIn?.close();
  await pagerDuty?.close();
});

async function deliver(body: Record<string, unknown>): Promise<void> {
  const id = await deliverWebhook(sesame.baseUrl, SECRET, body);
  await waitFor(async () => {
    const row = await sesame.runtime.db.inboundEvent.findUnique({ where: { id } });
    return row?.status === "done" || row?.status === "failed";
  }, "the PagerDuty event to be processed");
}

async function offerCard(incidentId: string): Promise<Json> {
  const find = () =>
    standIn
      .cardsIn(personalConversation(carol))
      .find((c) => JSON.stringify(c.card).includes(`/incidents/${incidentId}`));
  await waitFor(async () => find() !== undefined, `the offer card of ${incidentId}`);
  return find()!.card;
}

const activateData = (card: Json) => card.actions.find((a: Json) => a.verb === "activate").data;
const incidentRequests = async (incidentId: string) =>
  (await sesame.runtime.deps.store.listRequests({})).filter(
    (r) => r.snapshot.trigger?.kind === "pagerduty" && r.snapshot.trigger.incidentId === incidentId,
  );

describe("incident access offered in Teams", () => {
  it("the assignee gets a valid Adaptive Card with one Activate button; nothing is granted yet", async () => {
    await deliver(incidentWebhook("incident.acknowledged", { id: "PTOFF1" }));
    const card = await offerCard("PTOFF1");
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(JSON.stringify(card.body)).toContain("Activate access to incident-db for INC #42: Database latency");
    expect(card.actions.map((a: Json) => a.verb)).toEqual(["activate"]);
    expect(await incidentRequests("PTOFF1")).toEqual([]);
  });

  it("someone else's click grants nothing; the assignee's click grants it and the card shows it", async () => {
    const data = activateData(await offerCard("PTOFF1"));
    const stranger = await client.invoke(mallory, "activate", data);
    expect(stranger.status).toBe(200);
    expect(JSON.stringify(stranger.body)).toMatch(/not yours/);
    // A sentence, never the offer: the stranger learns nothing about the incident.
    expect(JSON.stringify(stranger.body)).not.toContain("Database latency");
    expect(await incidentRequests("PTOFF1")).toEqual([]);

    const response = await client.invoke(carol, "activate", data);
    expect(response.status).toBe(200);
    expect(adaptiveCardProblems(response.body.value)).toEqual([]);
    expect(JSON.stringify(response.body.value.body)).toMatch(/Activated/);
    expect(response.body.value.actions).toBeUndefined();
    const [request] = await incidentRequests("PTOFF1");
    expect(request).toMatchObject({ requesterId: "carol", status: "approved" });
    expect(request!.snapshot.trigger).toMatchObject({ kind: "pagerduty", incidentId: "PTOFF1", number: 42 });
    // Stored in the durable intake before it was answered.
    expect(await sesame.runtime.db.chatIntake.count({ where: { platform: "teams", status: "done" } })).toBeGreaterThan(
      0,
    );

    const again = await client.invoke(carol, "activate", data);
    expect(JSON.stringify(again.body)).toMatch(/Already activated/);
    expect(await incidentRequests("PTOFF1")).toHaveLength(1);
  });

  it("a click after the incident was resolved grants nothing and says so", async () => {
    await deliver(incidentWebhook("incident.acknowledged", { id: "PTOFF2", number: 43 }));
    const data = activateData(await offerCard("PTOFF2"));
    await deliver(incidentWebhook("incident.resolved", { id: "PTOFF2", number: 43 }));
    const response = await client.invoke(carol, "activate", data);
    expect(JSON.stringify(response.body)).toMatch(/resolved/);
    expect(JSON.stringify(response.body)).toMatch(/Nothing was granted/);
    // Redrawn for carol without its button, saying why.
    expect(adaptiveCardProblems(response.body.value)).toEqual([]);
    expect(JSON.stringify(response.body.value.body)).toMatch(/Nothing to activate/);
    expect(response.body.value.actions).toBeUndefined();
    expect(await incidentRequests("PTOFF2")).toEqual([]);
  });
});
