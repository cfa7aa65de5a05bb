import { z } from "zod";
import type { OnCallPage } from "../services/ports.js";
import { endpoint, type OnCallEnv, truncate } from "./provider.js";
import { ProviderFailure, type ProviderHttp } from "./provider-http.js";

/**
 * PagerDuty Events API v2: a page is a `trigger` with the page's key as `dedup_key`, so a retried
 * trigger joins the open incident instead of paging twice, and `resolve` with the same key ends it.
 */

const EnqueueAnswerSchema = z.object({ status: z.string(), dedup_key: z.string().optional() });

/** Events API v2 limits (anything longer is rejected with 400). */
const MAX_SUMMARY = 1024;
const MAX_DEDUP_KEY = 255;

export type PagerDutyEvent =
  | { event_action: "trigger"; dedup_key: string; page: OnCallPage }
  | { event_action: "resolve"; dedup_key: string };

export async function pageWithPagerDutyEvents(
  env: OnCallEnv,
  http: ProviderHttp,
  event: PagerDutyEvent,
): Promise<void> {
  const routingKey = env.PAGERDUTY_ROUTING_KEY;
  if (!routingKey) throw new ProviderFailure("PAGERDUTY_ROUTING_KEY is not set, so Sesame cannot page");
  // Cutting the key would merge pages, or make a resolve miss its trigger: refuse instead.
  if (event.dedup_key.length > MAX_DEDUP_KEY)
    throw new ProviderFailure(`the page key is longer than PagerDuty's ${MAX_DEDUP_KEY} characters`);
  const body = {
    routing_key: routingKey,
    event_action: event.event_action,
    dedup_key: event.dedup_key,
    ...(event.event_action === "trigger"
      ? {
          payload: {
            summary: truncate(event.page.summary, MAX_SUMMARY),
            source: "sesame",
            severity: event.page.severity,
            custom_details: event.page.details,
          },
        }
      : {}),
  };
  await http.send(
    { method: "POST", url: endpoint(env.PAGERDUTY_EVENTS_URL, "/v2/enqueue"), headers: {}, body },
    { okStatus: 202, schema: EnqueueAnswerSchema, secrets: [routingKey] },
  );
}
