import { z } from "zod";
import type { OnCallSource } from "../domain/policy/policy-schema.js";
import type { OnCallPage, OnCallPerson } from "../services/ports.js";
import { endpoint, type OnCallEnv, type OnCallProviderDefinition, truncate } from "./provider.js";
import { ProviderFailure } from "./provider-http.js";

/**
 * Opsgenie (end of support April 2027; its successor will be one more file like this one). Who
 * is on call comes from the Who Is On Call API with `flat=true` (the on-call users' usernames,
 * which are their emails); a page is an alert to the schedule whose alias is the page's key, so a
 * repeated create is deduplicated and close finds it.
 */

const OnCallsAnswerSchema = z.object({ data: z.object({ onCallRecipients: z.array(z.string().min(1)) }) });
/** Alert requests are processed asynchronously: 202 only says it was accepted. */
const AcceptedSchema = z.object({ result: z.string().optional(), requestId: z.string().optional() });

/** Alert API limits; longer values are rejected. */
const MAX_MESSAGE = 130;
const MAX_ALIAS = 512;
const MAX_DESCRIPTION = 15_000;

const PRIORITY: Record<OnCallPage["severity"], string> = { critical: "P1", error: "P2", warning: "P3", info: "P5" };

export const opsgenie: OnCallProviderDefinition = {
  label: "Opsgenie",
  urlVariables: ["OPSGENIE_API_URL"],
  missingSettings: (_source, env) =>
    env.OPSGENIE_API_KEY ? [] : ["set OPSGENIE_API_KEY (an API integration key) to see who is on call and to page"],
  create: (env, http) => ({
    async whoIsOnCall(source) {
      const url = endpoint(env.OPSGENIE_API_URL, `/v2/schedules/${encodeURIComponent(scheduleOf(source))}/on-calls`);
      url.searchParams.set("scheduleIdentifierType", "name");
      url.searchParams.set("flat", "true");
      const { headers, secrets } = credentials(env);
      const answer = await http.read(
        { method: "GET", url, headers },
        { okStatus: 200, schema: OnCallsAnswerSchema, secrets },
      );
      return answer.data.onCallRecipients.map((email): OnCallPerson => ({ email, level: null, until: null }));
    },
    async page(source, page) {
      if (page.key.length > MAX_ALIAS)
        throw new ProviderFailure(`the page key is longer than Opsgenie's ${MAX_ALIAS} characters`);
      const body = {
        message: truncate(page.summary, MAX_MESSAGE),
        alias: page.key,
        description: truncate(page.summary, MAX_DESCRIPTION),
        priority: PRIORITY[page.severity],
        responders: [{ type: "schedule", name: scheduleOf(source) }],
        details: page.details,
        source: "sesame",
      };
      const { headers, secrets } = credentials(env);
      await http.send(
        { method: "POST", url: endpoint(env.OPSGENIE_API_URL, "/v2/alerts"), headers, body },
        { okStatus: 202, schema: AcceptedSchema, secrets },
      );
    },
    async resolvePage(_source, key) {
      const url = endpoint(env.OPSGENIE_API_URL, `/v2/alerts/${encodeURIComponent(key)}/close`);
      url.searchParams.set("identifierType", "alias");
      const { headers, secrets } = credentials(env);
      await http.send(
        { method: "POST", url, headers, body: { source: "sesame" } },
        { okStatus: 202, schema: AcceptedSchema, secrets },
      );
    },
  }),
};

function credentials(env: OnCallEnv): { headers: Record<string, string>; secrets: string[] } {
  const key = env.OPSGENIE_API_KEY;
  if (!key) throw new ProviderFailure("OPSGENIE_API_KEY is not set");
  return { headers: { Authorization: `GenieKey ${key}` }, secrets: [key] };
}

/** The policy schema requires a schedule for Opsgenie; this only narrows the type. */
function scheduleOf(source: OnCallSource): string {
  if (source.schedule === undefined) throw new ProviderFailure("the source names no schedule (Opsgenie needs one)");
  return source.schedule;
}
