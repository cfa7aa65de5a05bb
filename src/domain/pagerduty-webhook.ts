import { z } from "zod";

/**
 * PagerDuty Webhooks v3: `{ event: { id, event_type, resource_type, occurred_at, data } }`, where
 * `data` is the incident for `incident.*` events (id, number, title, html_url, status, urgency,
 * service reference, assignees as user references). Unknown keys are kept and ignored.
 */
const Reference = z.object({ id: z.string().min(1), summary: z.string().optional() }).loose();

export const PagerDutyIncidentSchema = z
  .object({
    id: z.string().min(1),
    number: z.number().int().optional(),
    title: z.string().optional(),
    html_url: z.string().optional(),
    status: z.string().optional(),
    urgency: z.string().optional(),
    /** `{ id, type: "priority_reference", summary: "P1" }`, or null when the account uses no priorities. */
    priority: Reference.nullable().optional(),
    service: Reference.optional(),
    assignees: z.array(Reference).optional(),
  })
  .loose();
export type PagerDutyIncident = z.infer<typeof PagerDutyIncidentSchema>;

export const PagerDutyWebhookSchema = z
  .object({
    event: z
      .object({
        id: z.string().min(1).max(200),
        event_type: z.string().min(1),
        resource_type: z.string().min(1),
        occurred_at: z.string().optional(),
        data: z.object({}).loose(),
      })
      .loose(),
  })
  .loose();
export type PagerDutyWebhook = z.infer<typeof PagerDutyWebhookSchema>;

/** `incident.responder.added`: the data is the responder request, naming the incident and the user. */
export const ResponderAddedSchema = z.object({ incident: Reference, user: Reference }).loose();

/** Event types that start access for the incident's assignees at that moment, per rule `on`. */
export function startsAccess(eventType: string, on: "acknowledged" | "triggered"): boolean {
  if (eventType === "incident.acknowledged" || eventType === "incident.reassigned") return true;
  return on === "triggered" && eventType === "incident.triggered";
}
