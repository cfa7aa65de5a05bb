import { z } from "zod";
import { type ButtonValue, encodeAction, parseButtonValue } from "../core/action-payload.js";
import type { CardAction } from "../core/card-model.js";
import { type RequestFormInput, RequestFormSchema } from "../core/request-form.js";

/**
 * What Sesame puts in `Action.Execute` / `Action.Submit` data, and how it is read back. Teams
 * merges the card's inputs into the data, so the button value sits under `sesame` and the inputs
 * beside it. Every shape is strict: a field Sesame never sent (say a forged `approverId`) makes
 * the whole click invalid. The clicker is never read from here.
 */

export const REFRESH_VERB = "refresh";
export const SUBMIT_FORM_VERB = "submit_request";

/** Input ids used in cards. */
export const INPUT = {
  reason: "reason",
  duration: "duration",
  resource: "resource",
  ticket: "ticket",
  action: "action",
} as const;

export const actionData = (action: CardAction): Record<string, unknown> => ({
  sesame: JSON.parse(encodeAction(action)) as unknown,
});
export const refreshData = (requestId: string): Record<string, unknown> => ({
  sesame: { kind: REFRESH_VERB, requestId },
});
export const formData = (): Record<string, unknown> => ({ sesame: { kind: SUBMIT_FORM_VERB } });

const ButtonDataSchema = z.strictObject({
  sesame: z.unknown(),
  reason: z.string().max(2000).optional(),
  duration: z.string().max(32).optional(),
});
const RefreshDataSchema = z.strictObject({
  sesame: z.strictObject({ kind: z.literal(REFRESH_VERB), requestId: z.uuid() }),
});
const FormDataSchema = RequestFormSchema.extend({
  sesame: z.strictObject({ kind: z.literal(SUBMIT_FORM_VERB) }),
}).strict();

export type CardData =
  | { kind: "button"; value: ButtonValue; reason?: string; duration?: string }
  | { kind: "refresh"; requestId: string }
  | { kind: "form"; input: RequestFormInput };

/** Parses card data; undefined when it is not exactly something Sesame sent (plus the card's own inputs). */
export function parseCardData(data: unknown): CardData | undefined {
  const refresh = RefreshDataSchema.safeParse(data);
  if (refresh.success) return { kind: "refresh", requestId: refresh.data.sesame.requestId };
  const form = FormDataSchema.safeParse(data);
  if (form.success) {
    const { sesame: _marker, ...input } = form.data;
    return { kind: "form", input };
  }
  const button = ButtonDataSchema.safeParse(data);
  if (!button.success) return undefined;
  const value = parseButtonValue(button.data.sesame);
  if (!value) return undefined;
  return {
    kind: "button",
    value,
    ...(button.data.reason ? { reason: button.data.reason } : {}),
    ...(button.data.duration ? { duration: button.data.duration } : {}),
  };
}
