import { z } from "zod";
import type { OnCallSource } from "../domain/policy/policy-schema.js";
import type { OnCallPerson } from "../services/ports.js";
import { pageWithPagerDutyEvents } from "./pagerduty-events.js";
import { endpoint, type OnCallEnv, type OnCallProviderDefinition } from "./provider.js";
import { ProviderFailure, type ProviderHttp } from "./provider-http.js";

/**
 * PagerDuty: who is on call from the REST API's `GET /oncalls`, paging through Events API v2
 * (`pagerduty-events.ts`). The REST key only reads; pages need the integration's routing key.
 */

const OnCallEntrySchema = z.object({
  escalation_level: z.number().int(),
  // `include[]=users` puts the whole user in; without it there would be no email.
  user: z.object({ email: z.string().min(1) }),
  // Null for someone always on call (an escalation policy rule with a user, no schedule).
  end: z.iso.datetime({ offset: true }).nullable(),
});

const OnCallsPageSchema = z.object({
  oncalls: z.array(OnCallEntrySchema),
  more: z.boolean(),
});

const PAGE_LIMIT = 100;
/** 2,000 entries is far beyond any one schedule; past it, something is looping. */
const MAX_PAGES = 20;

export const pagerDuty: OnCallProviderDefinition = {
  label: "PagerDuty",
  urlVariables: ["PAGERDUTY_API_URL", "PAGERDUTY_EVENTS_URL"],
  missingSettings: (_source, env) => [
    ...(env.PAGERDUTY_API_TOKEN ? [] : ["set PAGERDUTY_API_TOKEN (a read-only REST API key) to see who is on call"]),
    ...(env.PAGERDUTY_ROUTING_KEY ? [] : ["set PAGERDUTY_ROUTING_KEY (an Events API v2 integration key) to page"]),
  ],
  create: (env, http) => ({
    whoIsOnCall: (source) => whoIsOnCall(source, env, http),
    page: (_source, page) => pageWithPagerDutyEvents(env, http, { event_action: "trigger", dedup_key: page.key, page }),
    resolvePage: (_source, key) => pageWithPagerDutyEvents(env, http, { event_action: "resolve", dedup_key: key }),
  }),
};

async function whoIsOnCall(source: OnCallSource, env: OnCallEnv, http: ProviderHttp): Promise<OnCallPerson[]> {
  const token = env.PAGERDUTY_API_TOKEN;
  if (!token) throw new ProviderFailure("PAGERDUTY_API_TOKEN is not set");
  const people = new Map<string, OnCallPerson>();
  for (let pageIndex = 0; pageIndex < MAX_PAGES; pageIndex += 1) {
    const url = onCallsUrl(env.PAGERDUTY_API_URL, source, pageIndex * PAGE_LIMIT);
    const headers = { Authorization: `Token token=${token}`, Accept: "application/vnd.pagerduty+json;version=2" };
    const page = await http.read(
      { method: "GET", url, headers },
      { okStatus: 200, schema: OnCallsPageSchema, secrets: [token] },
    );
    for (const entry of page.oncalls) {
      // A schedule used by two escalation policies lists its people once per policy: one is enough.
      const key = `${entry.escalation_level}:${entry.user.email.toLowerCase()}`;
      if (!people.has(key))
        people.set(key, {
          email: entry.user.email,
          level: entry.escalation_level,
          until: entry.end === null ? null : new Date(entry.end),
        });
    }
    if (!page.more) return [...people.values()];
    if (page.oncalls.length === 0) break; // "more" with an empty page would never end
  }
  throw new ProviderFailure(`its on-call list did not end after ${MAX_PAGES} pages of ${PAGE_LIMIT}`);
}

function onCallsUrl(base: string, source: OnCallSource, offset: number): URL {
  const url = endpoint(base, "/oncalls");
  const query = url.searchParams;
  if (source.schedule !== undefined) query.append("schedule_ids[]", source.schedule);
  if (source.escalationPolicy !== undefined) query.append("escalation_policy_ids[]", source.escalationPolicy);
  if (source.level !== undefined) query.append("escalation_levels[]", String(source.level));
  query.append("include[]", "users");
  query.set("time_zone", "UTC");
  // Only each person's current (earliest) shift per policy and level, not every future one.
  query.set("earliest", "true");
  query.set("limit", String(PAGE_LIMIT));
  query.set("offset", String(offset));
  return url;
}
