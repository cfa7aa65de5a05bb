import { z } from "zod";
import { PagerDutyIncidentSchema } from "../domain/pagerduty-webhook.js";
import type { PagerDutyDirectory } from "../services/pagerduty-incidents.js";

/**
 * PagerDuty's REST API for incident access: a user's email (`GET /users/{id}`, cached briefly)
 * and an incident's current status (`GET /incidents/{id}`).
 */

const UserAnswer = z.object({ user: z.object({ email: z.string() }).loose() }).loose();
const IncidentAnswer = z.object({ incident: PagerDutyIncidentSchema }).loose();
const CACHE_MS = 5 * 60_000;
const TIMEOUT_MS = 5_000;

export function createPagerDutyDirectory(options: {
  apiUrl: string;
  token: string | undefined;
  now?: () => number;
}): PagerDutyDirectory {
  const now = options.now ?? Date.now;
  const emails = new Map<string, { email: string; until: number }>();
  async function get<S extends z.ZodType>(path: string, schema: S): Promise<z.output<S>> {
    if (!options.token) throw new Error("PAGERDUTY_API_TOKEN is not set");
    const response = await fetch(new URL(path, options.apiUrl), {
      headers: { Authorization: `Token token=${options.token}`, Accept: "application/vnd.pagerduty+json;version=2" },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`PagerDuty answered ${response.status} to GET ${path}`);
    return schema.parse(await response.json());
  }
  return {
    async emailOf(userId) {
      const cached = emails.get(userId);
      if (cached && cached.until > now()) return cached.email;
      const answer = await get(`/users/${encodeURIComponent(userId)}`, UserAnswer);
      emails.set(userId, { email: answer.user.email, until: now() + CACHE_MS });
      return answer.user.email;
    },
    async incident(incidentId) {
      return (await get(`/incidents/${encodeURIComponent(incidentId)}`, IncidentAnswer)).incident;
    },
  };
}
