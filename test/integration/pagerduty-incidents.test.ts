import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobId } from "../../src/jobs/queues.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { waitFor } from "../helpers/wait.js";
import { auditEvents } from "./support.js";

/**
 * Incident access end to end: PagerDuty Webhooks v3 posted to /events/pagerduty, signed as
 * PagerDuty signs; PagerDuty's REST API (GET /users/{id}, GET /incidents/{id}) is a local
 * stand-in speaking the documented shapes, since no PagerDuty server can run here. The policy is
 * examples/incident-access.yaml with one more responder (erin) for the reassignment case.
 */

const SECRET = "pd-webhook-secret-0123456789abcdef";
const API_TOKEN = "pd-api-token-for-tests";
const USERS: Record<string, string> = {
  PCAROL: "carol@example.com",
  PERIN: "erin@example.com",
  PNOBODY: "nobody@example.com",
};
const incidentStatus = new Map<string, string>();
let standIn: Server;
let sesame: TestSesame;

beforeAll(async () => {
  standIn = createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Token token=${API_TOKEN}`)
      return answer(401, { error: { message: "Unauthorized" } });
    const user = /^\/users\/(\w+)$/.exec(req.url ?? "");
    if (user && USERS[user[1]!]) return answer(200, { user: { id: user[1], type: "user", email: USERS[user[1]!] } });
    const incident = /^\/incidents\/(\w+)$/.exec(req.url ?? "");
    if (incident) {
      const status = incidentStatus.get(incident[1]!) ?? "triggered";
      const service = { id: "PSVC001", type: "service_reference" };
      return answer(200, {
        incident: { id: incident[1], type: "incident", number: 42, title: "Database latency", status, service },
      });
    }
    return answer(404, { error: { message: "Not Found" } });
  });
  await new Promise<void>((resolve) => standIn.listen(0, "127.0.0.1", resolve));
  const example = await readFile(new URL("../../examples/incident-access.yaml", import.meta.url), "utf8");
  const policy = example
    .replace("responders: [carol]", "responders: [carol, erin]")
    .replace("people:\n", "people:\n  - { id: erin, email: erin@example.com }\n")
    .concat("  - services: [PSVC002]\n    priorities: [P1]\n    resources: [incident-db]\n    maxDuration: 1h\n");
  sesame = await startSesame("pagerduty-incidents", {
    policy,
    identities: ["carol", "erin", "dave"],
    env: {
      PAGERDUTY_WEBHOOK_SECRET: SECRET,
      PAGERDUTY_API_TOKEN: API_TOKEN,
      PAGERDUTY_API_URL: `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`,
    },
  });
});
afterAll(async () => {
  await sesame?.stop();
  await new Promise((resolve) => standIn?.close(resolve));
});

let eventCounter = 0;
function webhook(
  type: string,
  incident: { id: string; service?: string; assignees?: string[]; status?: string; priority?: string | null },
) {
  eventCounter += 1;
  return {
    event: {
      id: `01EVENT${eventCounter}`,
      event_type: type,
      resource_type: "incident",
      occurred_at: "2026-12-07T10:00:00.000Z",
      agent: { id: "PCAROL", type: "user_reference" },
      client: null,
      data: {
        id: incident.id,
        type: "incident",
        self: `https://api.pagerduty.com/incidents/${incident.id}`,
        html_url: `https://acme.pagerduty.com/incidents/${incident.id}`,
        number: 42,
        status: incident.status ?? type.replace("incident.", ""),
        incident_key: `key-${incident.id}`,
        created_at: "2026-12-07T09:58:00Z",
        title: "Database latency",
        service: { id: incident.service ?? "PSVC001", type: "service_reference", summary: "Checkout" },
        assignees: (incident.assignees ?? ["PCAROL"]).map((id) => ({ id, type: "user_reference", summary: id })),
        escalation_policy: { id: "PEP1", type: "escalation_policy_reference" },
        urgency: "high",
        priority:
          incident.priority == null
            ? null
            : { id: `PPRIO${incident.priority}`, type: "priority_reference", summary: incident.priority },
      },
    },
  };
}

async function post(body: unknown, signature?: string): Promise<{ status: number; body: any }> {
  const raw = JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json" };
  const own = `v1=${createHmac("sha256", SECRET).update(raw).digest("hex")}`;
  if (signature !== "none") headers["x-pagerduty-signature"] = signature ?? own;
  const response = await fetch(`${sesame.baseUrl}/events/pagerduty`, { method: "POST", headers, body: raw });
  return { status: response.status, body: JSON.parse(await response.text()) };
}

async function deliver(body: unknown, signature?: string): Promise<string> {
  const answer = await post(body, signature);
  expect(answer.status).toBe(202);
  await waitFor(async () => {
    const row = await sesame.runtime.db.inboundEvent.findUnique({ where: { id: answer.body.event } });
    return row?.status === "done" || row?.status === "failed";
  }, "the PagerDuty event to be processed");
  return answer.body.event;
}

async function grantsOf(incidentId: string) {
  const requests = await sesame.runtime.deps.store.listRequests({});
  const mine = requests.filter(
    (r) => r.snapshot.trigger?.kind === "pagerduty" && r.snapshot.trigger.incidentId === incidentId,
  );
  const grants = await Promise.all(mine.map((r) => sesame.runtime.deps.store.getGrantByRequest(r.id)));
  return grants.filter((g) => g !== null);
}

const statusOf = async (grantId: string) => (await sesame.runtime.deps.store.getGrant(grantId))?.status;

describe("PagerDuty incident access", () => {
  it("refuses an unsigned or wrongly signed webhook with 401 and stores nothing", async () => {
    expect((await post(webhook("incident.acknowledged", { id: "PINC0" }), "none")).status).toBe(401);
    expect((await post(webhook("incident.acknowledged", { id: "PINC0" }), "v1=deadbeef")).status).toBe(401);
    expect(await sesame.runtime.db.inboundEvent.count()).toBe(0);
    expect(await grantsOf("PINC0")).toEqual([]);
  });

  let grantId = "";
  it("acknowledged: carol's access is active, naming the incident; a duplicate changes nothing", async () => {
    const event = webhook("incident.acknowledged", { id: "PINC1" });
    // Mid-rotation PagerDuty sends two signatures; one valid is enough.
    const own = `v1=${createHmac("sha256", SECRET).update(JSON.stringify(event)).digest("hex")}`;
    await deliver(event, `v1=${"0".repeat(64)}, ${own}`);
    const [grant] = await grantsOf("PINC1");
    expect(grant?.subjectId).toBe("carol");
    grantId = grant!.id;
    await waitFor(async () => (await statusOf(grantId)) === "active", "carol's grant to be active");
    const request = await sesame.api("carol", "GET", `/api/v1/requests/${grant!.requestId}`);
    expect(request.body.trigger).toEqual({
      kind: "pagerduty",
      incidentId: "PINC1",
      number: 42,
      title: "Database latency",
      url: "https://acme.pagerduty.com/incidents/PINC1",
    });
    expect(request.body.status).toBe("approved");
    const grantView = await sesame.api("carol", "GET", `/api/v1/grants/${grantId}`);
    expect(grantView.body.trigger).toEqual(request.body.trigger);
    const scheduled = (await auditEvents(sesame, { grantId })).find((e) => e.type === "grant.scheduled");
    expect(scheduled?.data.trigger).toMatchObject({ kind: "pagerduty", incidentId: "PINC1", number: 42 });
    // The revoke job stands for it like for any grant (the sweeper's guarantee is the same row).
    expect(await sesame.runtime.queues.revokes.getJob(jobId.revoke(grantId))).toBeDefined();
    const again = await post(event);
    expect(again).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(await grantsOf("PINC1")).toHaveLength(1);
  });

  it("resolved: the grant is revoked, the reason naming the incident", async () => {
    incidentStatus.set("PINC1", "resolved");
    await deliver(webhook("incident.resolved", { id: "PINC1" }));
    await waitFor(async () => (await statusOf(grantId)) === "revoked", "the grant to be revoked");
    const requested = (await auditEvents(sesame, { grantId })).find((e) => e.type === "grant.revoke_requested");
    expect(JSON.stringify(requested?.data)).toContain("PagerDuty incident #42 was resolved");
  });

  it("resolved before acknowledged (out of order): nothing is granted", async () => {
    await deliver(webhook("incident.resolved", { id: "PINC2" }));
    await deliver(webhook("incident.acknowledged", { id: "PINC2" }));
    expect(await grantsOf("PINC2")).toEqual([]);
  });

  it("an incident PagerDuty says is resolved already grants nothing", async () => {
    incidentStatus.set("PINC5", "resolved");
    await deliver(webhook("incident.acknowledged", { id: "PINC5" }));
    expect(await grantsOf("PINC5")).toEqual([]);
  });

  it("an unknown service or an unmapped assignee grants nothing, with an audit event", async () => {
    await deliver(webhook("incident.acknowledged", { id: "PINC3", service: "POTHER" }));
    await deliver(webhook("incident.acknowledged", { id: "PINC4", assignees: ["PNOBODY"] }));
    expect(await grantsOf("PINC3")).toEqual([]);
    expect(await grantsOf("PINC4")).toEqual([]);
    const skipped = (await sesame.runtime.db.auditEvent.findMany({ where: { type: "incident.access_skipped" } })).map(
      (row) => (row.data as { why: string }).why,
    );
    expect(skipped).toEqual(
      expect.arrayContaining([
        "service POTHER has no incidentAccess rule",
        "PagerDuty user PNOBODY maps to no Sesame person by email",
      ]),
    );
  });

  it("a rule with priorities opens access only for incidents of those priorities", async () => {
    await deliver(webhook("incident.acknowledged", { id: "PINC8", service: "PSVC002", priority: "P2" }));
    await deliver(webhook("incident.acknowledged", { id: "PINC9", service: "PSVC002" }));
    await deliver(webhook("incident.acknowledged", { id: "PINC10", service: "PSVC002", priority: "P1" }));
    expect(await grantsOf("PINC8")).toEqual([]);
    expect(await grantsOf("PINC9")).toEqual([]);
    const [grant] = await grantsOf("PINC10");
    expect(grant?.subjectId).toBe("carol");
    const skipped = (await sesame.runtime.db.auditEvent.findMany({ where: { type: "incident.access_skipped" } })).map(
      (row) => (row.data as { why: string }).why,
    );
    expect(skipped).toContain("no incidentAccess rule of service PSVC002 covers urgency high, priority P2");
    expect(skipped).toContain("no incidentAccess rule of service PSVC002 covers urgency high, priority (none)");
  });

  it("reassigned: the previous assignee's access ends and the new one's starts", async () => {
    await deliver(webhook("incident.acknowledged", { id: "PINC6", assignees: ["PCAROL"] }));
    const [carols] = await grantsOf("PINC6");
    await waitFor(async () => (await statusOf(carols!.id)) === "active", "carol's grant to be active");
    await deliver(webhook("incident.reassigned", { id: "PINC6", assignees: ["PERIN"], status: "triggered" }));
    await waitFor(async () => (await statusOf(carols!.id)) === "revoked", "carol's grant to be revoked");
    const erins = (await grantsOf("PINC6")).find((g) => g.subjectId === "erin");
    expect(erins).toBeDefined();
    await waitFor(async () => (await statusOf(erins!.id)) === "active", "erin's grant to be active");
  });

  it("a responder added later gets the access too, read from the incident as PagerDuty has it", async () => {
    await deliver(webhook("incident.acknowledged", { id: "PINC7", assignees: ["PCAROL"] }));
    incidentStatus.set("PINC7", "acknowledged");
    eventCounter += 1;
    await deliver({
      event: {
        id: `01EVENT${eventCounter}`,
        event_type: "incident.responder.added",
        resource_type: "incident",
        occurred_at: "2026-12-07T10:05:00.000Z",
        data: {
          incident: { id: "PINC7", type: "incident_reference", html_url: "https://acme.pagerduty.com/incidents/PINC7" },
          user: { id: "PERIN", type: "user_reference", summary: "Erin" },
          message: "Please help with Database latency",
          type: "incident_responder",
        },
      },
    });
    expect((await grantsOf("PINC7")).map((g) => g.subjectId).sort()).toEqual(["carol", "erin"]);
  });

  it("other event types are stored and ignored", async () => {
    const id = await deliver({
      event: { id: "01OTHER", event_type: "incident.annotated", resource_type: "incident", data: { id: "PINC1" } },
    });
    const row = await sesame.runtime.db.inboundEvent.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: "done", outcome: "ignored: incident.annotated opens or closes no access" });
  });
});
