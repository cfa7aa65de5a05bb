import { z } from "zod";
import type { CardAction } from "./card-model.js";

/**
 * The value a button carries, as JSON (Slack `value`, Teams `data`). Parsed with zod at the
 * boundary: anything else, including extra fields such as a user id, is refused.
 */

const Id = z.uuid();

const CardActionSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("approve"), requestId: Id, version: z.number().int().min(1) }).strict(),
  z.object({ kind: z.literal("deny"), requestId: Id, version: z.number().int().min(1) }).strict(),
  z.object({ kind: z.literal("cancel"), requestId: Id }).strict(),
  z.object({ kind: z.literal("extend"), grantId: Id, durations: z.array(z.string().max(16)).max(20) }).strict(),
  z.object({ kind: z.literal("relinquish"), grantId: Id }).strict(),
  z.object({ kind: z.literal("review"), requestId: Id }).strict(),
  z.object({ kind: z.literal("activate"), offerId: Id }).strict(),
]);

/** The compact form put into a button: ids and version only (well under Slack's 2,000-character limit). */
export function encodeAction(action: CardAction): string {
  switch (action.kind) {
    case "approve":
    case "deny":
      return JSON.stringify({ kind: action.kind, requestId: action.requestId, version: action.version });
    case "cancel":
    case "review":
      return JSON.stringify({ kind: action.kind, requestId: action.requestId });
    case "extend":
    case "relinquish":
      return JSON.stringify({ kind: action.kind, grantId: action.grantId });
    case "activate":
      return JSON.stringify({ kind: action.kind, offerId: action.offerId });
  }
}

const ButtonValueSchema = z.discriminatedUnion("kind", [
  CardActionSchema.options[0],
  CardActionSchema.options[1],
  CardActionSchema.options[2],
  z.object({ kind: z.literal("extend"), grantId: Id }).strict(),
  CardActionSchema.options[4],
  CardActionSchema.options[5],
  CardActionSchema.options[6],
]);
export type ButtonValue = z.infer<typeof ButtonValueSchema>;

/** Parses a button value (JSON text or an already-parsed object); undefined when it is not one of ours. */
export function parseButtonValue(value: unknown): ButtonValue | undefined {
  let candidate = value;
  if (typeof value === "string") {
    try {
      candidate = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  const parsed = ButtonValueSchema.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}
