import { z } from "zod";
import { type FakeAnswer, type FakeServerControls, type RecordedRequest, startFakeServer } from "./fake-http-server.js";

/**
 * A stand-in for Opsgenie on 127.0.0.1, speaking the documented shapes of the Who Is On Call API
 * (`GET /v2/schedules/{schedule}/on-calls`, by name or id, flat or not) and the Alert API
 * (`POST /v2/alerts`, `POST /v2/alerts/{identifier}/close`), both answering 202 as Opsgenie does.
 */

const AlertSchema = z.object({
  message: z.string().min(1).max(130),
  alias: z.string().max(512).optional(),
  description: z.string().max(15_000).optional(),
  priority: z.enum(["P1", "P2", "P3", "P4", "P5"]).default("P3"),
  responders: z
    .array(
      z.object({
        type: z.enum(["team", "user", "escalation", "schedule"]),
        name: z.string().optional(),
        id: z.string().optional(),
      }),
    )
    .default([]),
  details: z.record(z.string(), z.string()).default({}),
  source: z.string().optional(),
});

export type FakeAlert = z.infer<typeof AlertSchema> & { status: "open" | "closed"; count: number };

export interface FakeOpsgenie extends FakeServerControls {
  /** Who is on call for the schedule of that name (its id is "id-<name>"). */
  setOnCall(schedule: string, emails: string[]): void;
  /** Alerts by alias (or generated id), with their open/closed state. */
  alerts: Map<string, FakeAlert>;
}

export async function startFakeOpsgenie(options: { apiKey?: string } = {}): Promise<FakeOpsgenie> {
  const schedules = new Map<string, string[]>();
  const alerts = new Map<string, FakeAlert>();
  const meta = () => ({ took: 0.01, requestId: `req-${Math.random().toString(16).slice(2)}` });
  const accepted = (): FakeAnswer => ({ status: 202, body: { result: "Request will be processed", ...meta() } });

  function onCalls(request: RecordedRequest, identifier: string): FakeAnswer {
    const byName = request.query.get("scheduleIdentifierType") === "name";
    const name = byName ? identifier : identifier.replace(/^id-/, "");
    const emails = schedules.get(name);
    if (emails === undefined)
      return {
        status: 404,
        body: { message: `No schedule exists with ${byName ? "name" : "id"} [${identifier}]`, ...meta() },
      };
    const parent = { id: `id-${name}`, name, enabled: true };
    if (request.query.get("flat") === "true")
      return { status: 200, body: { data: { _parent: parent, onCallRecipients: emails }, ...meta() } };
    const participants = emails.map((email) => ({ id: `user-${email}`, name: email, type: "user" }));
    return { status: 200, body: { data: { _parent: parent, onCallParticipants: participants }, ...meta() } };
  }

  function createAlert(request: RecordedRequest): FakeAnswer {
    const parsed = AlertSchema.safeParse(request.body);
    if (!parsed.success)
      return {
        status: 422,
        body: {
          message: parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "),
          ...meta(),
        },
      };
    const alias = parsed.data.alias ?? `alert-${alerts.size}`;
    const existing = alerts.get(alias);
    // An open alert with the same alias is deduplicated: its count goes up, nobody is paged again.
    if (existing?.status === "open") existing.count += 1;
    else alerts.set(alias, { ...parsed.data, status: "open", count: 1 });
    return accepted();
  }

  function closeAlert(request: RecordedRequest, identifier: string): FakeAnswer {
    // Processed asynchronously in Opsgenie too: an unknown alias is still 202.
    if (request.query.get("identifierType") === "alias") {
      const alert = alerts.get(identifier);
      if (alert !== undefined) alert.status = "closed";
    }
    return accepted();
  }

  const server = await startFakeServer((request) => {
    if (options.apiKey !== undefined && request.headers.authorization !== `GenieKey ${options.apiKey}`) {
      return { status: 401, body: { message: "Could not authenticate", ...meta() } };
    }
    const onCallPath = /^\/v2\/schedules\/([^/]+)\/on-calls$/.exec(request.path);
    if (request.method === "GET" && onCallPath) return onCalls(request, decodeURIComponent(onCallPath[1]!));
    if (request.method === "POST" && request.path === "/v2/alerts") return createAlert(request);
    const closePath = /^\/v2\/alerts\/([^/]+)\/close$/.exec(request.path);
    if (request.method === "POST" && closePath) return closeAlert(request, decodeURIComponent(closePath[1]!));
    return { status: 404, body: { message: "Not found", ...meta() } };
  });
  return {
    ...server,
    setOnCall: (schedule, emails) => void schedules.set(schedule, emails),
    alerts,
    reset() {
      server.reset();
      schedules.clear();
      alerts.clear();
    },
  };
}
