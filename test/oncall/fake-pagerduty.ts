import { z } from "zod";
import { type FakeAnswer, type FakeServerControls, type RecordedRequest, startFakeServer } from "./fake-http-server.js";

/**
 * A stand-in for PagerDuty on 127.0.0.1, speaking the documented shapes of the REST API's
 * `GET /oncalls` (filters, `include[]=users`, offset pagination) and Events API v2's
 * `POST /v2/enqueue`. `url` serves as both PAGERDUTY_API_URL and PAGERDUTY_EVENTS_URL.
 */

export interface FakeOnCallEntry {
  email: string;
  /** 1 (primary) unless given. */
  level?: number;
  /** Schedule id; null for someone on an escalation policy directly. */
  schedule?: string | null;
  escalationPolicy?: string;
  /** ISO time the shift ends; null when it does not (the default). */
  end?: string | null;
}

const EventSchema = z.object({
  routing_key: z.string().min(1),
  event_action: z.enum(["trigger", "acknowledge", "resolve"]),
  dedup_key: z.string().min(1).max(255).optional(),
  payload: z
    .object({
      summary: z.string().min(1).max(1024),
      source: z.string().min(1),
      severity: z.enum(["critical", "error", "warning", "info"]),
      custom_details: z.unknown().optional(),
    })
    .optional(),
});
export type FakePagerDutyEvent = z.infer<typeof EventSchema>;

export interface FakePagerDuty extends FakeServerControls {
  setOnCall(entries: FakeOnCallEntry[]): void;
  /** Every event PagerDuty accepted (202), in order. */
  events: FakePagerDutyEvent[];
  /** Dedup keys triggered and not resolved since. */
  openIncidents(): string[];
}

export async function startFakePagerDuty(
  options: { apiToken?: string; routingKey?: string } = {},
): Promise<FakePagerDuty> {
  let onCall: FakeOnCallEntry[] = [];
  const events: FakePagerDutyEvent[] = [];
  const open = new Set<string>();

  function oncalls(request: RecordedRequest): FakeAnswer {
    if (options.apiToken !== undefined && request.headers.authorization !== `Token token=${options.apiToken}`) {
      return { status: 401, body: { error: { message: "Unauthorized", code: 2006 } } };
    }
    const { query } = request;
    const listed = (name: string, value: string | undefined) =>
      query.getAll(name).length === 0 || (value !== undefined && query.getAll(name).includes(value));
    const matching = onCall.filter(
      (entry) =>
        listed("schedule_ids[]", entry.schedule ?? undefined) &&
        listed("escalation_policy_ids[]", entry.escalationPolicy ?? "PEPDEFAULT") &&
        listed("escalation_levels[]", String(entry.level ?? 1)),
    );
    const limit = Math.min(Number(query.get("limit") ?? 25), 100);
    const offset = Number(query.get("offset") ?? 0);
    const withUsers = query.getAll("include[]").includes("users");
    const page = matching.slice(offset, offset + limit).map((entry, index) => ({
      escalation_policy: {
        id: entry.escalationPolicy ?? "PEPDEFAULT",
        type: "escalation_policy_reference",
        summary: "Escalation policy",
      },
      escalation_level: entry.level ?? 1,
      schedule: entry.schedule ? { id: entry.schedule, type: "schedule_reference", summary: "Schedule" } : null,
      user: withUsers
        ? {
            id: `PU${offset + index}`,
            type: "user",
            name: entry.email.split("@")[0],
            email: entry.email,
            summary: entry.email,
          }
        : { id: `PU${offset + index}`, type: "user_reference", summary: entry.email.split("@")[0] },
      start: entry.end === undefined || entry.end === null ? null : "2026-01-01T00:00:00Z",
      end: entry.end ?? null,
    }));
    return { status: 200, body: { oncalls: page, limit, offset, more: offset + limit < matching.length, total: null } };
  }

  function enqueue(request: RecordedRequest): FakeAnswer {
    const parsed = EventSchema.safeParse(request.body);
    if (!parsed.success)
      return {
        status: 400,
        body: {
          status: "invalid event",
          message: "Event object is invalid",
          errors: parsed.error.issues.map((issue) => issue.message),
        },
      };
    const event = parsed.data;
    if (options.routingKey !== undefined && event.routing_key !== options.routingKey) {
      return {
        status: 400,
        body: { status: "invalid event", message: "Event object is invalid", errors: ["Invalid routing key"] },
      };
    }
    if (event.event_action === "trigger" && event.payload === undefined)
      return {
        status: 400,
        body: {
          status: "invalid event",
          message: "Event object is invalid",
          errors: ["'payload' is missing or invalid"],
        },
      };
    const dedupKey = event.dedup_key ?? `generated-${events.length}`;
    events.push(event);
    if (event.event_action === "trigger") open.add(dedupKey);
    if (event.event_action === "resolve") open.delete(dedupKey);
    return { status: 202, body: { status: "success", message: "Event processed", dedup_key: dedupKey } };
  }

  const server = await startFakeServer((request) => {
    if (request.method === "GET" && request.path === "/oncalls") return oncalls(request);
    if (request.method === "POST" && request.path === "/v2/enqueue") return enqueue(request);
    return { status: 404, body: { error: { message: "Not Found", code: 2100 } } };
  });
  return {
    ...server,
    setOnCall: (entries) => {
      onCall = entries;
    },
    events,
    openIncidents: () => [...open],
    reset() {
      server.reset();
      onCall = [];
      events.length = 0;
      open.clear();
    },
  };
}
