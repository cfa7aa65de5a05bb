import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for PagerDuty's REST API (GET /users/{id}, GET /incidents/{id}, as documented;
 * no PagerDuty server can run here) and a signer of Webhooks v3 deliveries, for incident tests.
 */

export interface PagerDutyStandIn {
  apiUrl: string;
  token: string;
  /** The status GET /incidents/{id} reports (triggered when not set). */
  incidentStatus: Map<string, string>;
  close(): Promise<void>;
}

export async function startPagerDutyStandIn(users: Record<string, string>): Promise<PagerDutyStandIn> {
  const token = "pd-api-token-for-tests";
  const incidentStatus = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Token token=${token}`)
      return answer(401, { error: { message: "Unauthorized" } });
    const user = /^\/users\/(\w+)$/.exec(req.url ?? "");
    if (user && users[user[1]!]) return answer(200, { user: { id: user[1], type: "user", email: users[user[1]!] } });
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
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token,
    incidentStatus,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let counter = 0;

/** A Webhooks v3 incident event as PagerDuty sends it. */
export function incidentWebhook(
  type: string,
  incident: { id: string; service?: string; assignees?: string[]; number?: number },
): Record<string, unknown> {
  counter += 1;
  return {
    event: {
      id: `01OFFER${counter}`,
      event_type: type,
      resource_type: "incident",
      occurred_at: "2026-12-07T10:00:00.000Z",
      data: {
        id: incident.id,
        type: "incident",
        html_url: `https://acme.pagerduty.com/incidents/${incident.id}`,
        number: incident.number ?? 42,
        status: type.replace("incident.", ""),
        title: "Database latency",
        service: { id: incident.service ?? "PSVC001", type: "service_reference" },
        assignees: (incident.assignees ?? ["PCAROL"]).map((id) => ({ id, type: "user_reference" })),
        urgency: "high",
      },
    },
  };
}

/** POSTs a signed webhook to Sesame's /events/pagerduty; returns the stored event id. */
export async function deliverWebhook(baseUrl: string, secret: string, body: unknown): Promise<string> {
  const raw = JSON.stringify(body);
  const signature = `v1=${createHmac("sha256", secret).update(raw).digest("hex")}`;
  const response = await fetch(`${baseUrl}/events/pagerduty`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-pagerduty-signature": signature },
    body: raw,
  });
  if (response.status !== 202) throw new Error(`webhook answered ${response.status}`);
  return ((await response.json()) as { event: string }).event;
}
