import { z } from "zod";
import { tryParseDuration } from "./duration.js";

/**
 * What started an access request that nobody asked for by hand: a signed event from a named
 * source. Kept in the request's snapshot, shown by the API and written to the audit log.
 */
export const EventTriggerSchema = z.object({
  kind: z.literal("event"),
  /** The source named in the URL (`POST /events/:source`). */
  source: z.string(),
  /** The stored inbound event that opened it. */
  eventId: z.string(),
  /** The sender's `Idempotency-Key`, to find the event on its side. */
  idempotencyKey: z.string(),
});

/** A PagerDuty incident whose assignee this access is for (POST /events/pagerduty). */
export const PagerDutyTriggerSchema = z.object({
  kind: z.literal("pagerduty"),
  incidentId: z.string(),
  number: z.number().int().nullable(),
  title: z.string(),
  url: z.string().nullable(),
});

export const AccessTriggerSchema = z.discriminatedUnion("kind", [EventTriggerSchema, PagerDutyTriggerSchema]);
export type AccessTrigger = z.infer<typeof AccessTriggerSchema>;

/** The body of a signed event: open or close access for a person to a resource. */
export const InboundEventBodySchema = z
  .object({
    action: z.enum(["open", "close"]),
    subject: z.string().min(1).max(200).describe("Sesame person id"),
    resource: z.string().min(1).max(200),
    reason: z.string().max(2000).optional(),
    ttl: z
      .string()
      .max(20)
      .refine((text) => tryParseDuration(text) !== undefined, "must be a duration like 30m, 1h or 1h30m")
      .optional()
      .describe("Duration such as 30m or 1h (open only)"),
  })
  .strict();
export type InboundEventBody = z.infer<typeof InboundEventBodySchema>;
