import { z } from "zod";
import type { RequestRow } from "../../domain/access-request.js";
import { formatDuration, parseDuration, tryParseDuration } from "../../domain/duration.js";
import { isAppError } from "../../domain/errors.js";
import type { GrantRow } from "../../domain/grant.js";
import type { PolicyBook } from "../../domain/policy/policy-book.js";
import type { ServiceDeps } from "../../services/deps.js";
import { MAX_ACTION_TEXT, submitAction } from "../../services/submit-action.js";
import { submitRequest } from "../../services/submit-request.js";

/** The request form (Slack modal, Teams card): what to offer a person, and their answers checked field by field. */

const LADDER = ["15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "2d", "3d", "7d", "14d", "30d"].map(parseDuration);

/** Durations to offer up to `maxSeconds`, always including the default and the maximum themselves. */
export function durationChoices(maxSeconds: number, defaultSeconds?: number): string[] {
  const seconds = new Set(LADDER.filter((s) => s <= maxSeconds));
  seconds.add(maxSeconds);
  if (defaultSeconds !== undefined && defaultSeconds <= maxSeconds) seconds.add(defaultSeconds);
  return [...seconds].sort((a, b) => a - b).map(formatDuration);
}

/** Whole minutes, and whole five minutes from a quarter of an hour up, so nobody is offered "16m59s". */
function roundDown(seconds: number): number {
  const step = seconds >= 900 ? 300 : 60;
  return Math.floor(seconds / step) * step;
}

/** Extra time a holder may still ask for without passing the policy's maximum total, in round durations. */
export function extensionChoices(grant: GrantRow, maxTotalSeconds: number): string[] {
  const usedSeconds = Math.ceil((grant.expiresAt.getTime() - grant.startsAt.getTime()) / 1000);
  const room = roundDown(maxTotalSeconds - usedSeconds);
  return room >= 60 ? durationChoices(room).slice(0, 8) : [];
}

export interface FormResource {
  id: string;
  label: string;
  defaultDuration: string;
  maxDuration: string;
  reasonRequired: boolean;
  ticketRequired: boolean;
  ticketHint?: string;
  /** The resource accepts "run one action" requests (an `actions:` block). */
  actions?: boolean;
}

export interface RequestFormModel {
  resources: FormResource[];
  /** Offered durations, up to the longest maximum among the resources (each resource's own is checked on submit). */
  durations: string[];
  defaultDuration: string | undefined;
  reasonRequired: boolean;
  ticketRequired: boolean;
  ticketHint: string | undefined;
  /** Some resource accepts one action (SQL run once) instead of a duration: offer the field. */
  actionsOffered?: boolean;
}

export function requestFormModel(book: PolicyBook, identityId: string): RequestFormModel {
  const resources = book.requestableResources(identityId).map(
    ({ resourceId, resource, policy }): FormResource => ({
      id: resourceId,
      label: resource.description ? `${resourceId}: ${resource.description}` : resourceId,
      defaultDuration: policy.duration.default,
      maxDuration: policy.duration.max,
      reasonRequired: policy.reason.required,
      ticketRequired: policy.ticket.required,
      ...(policy.ticket.hint ? { ticketHint: policy.ticket.hint } : {}),
      actions: resource.actions !== undefined,
    }),
  );
  const longest = Math.max(0, ...resources.map((r) => parseDuration(r.maxDuration)));
  const first = resources[0];
  return {
    resources,
    durations:
      resources.length > 0 ? durationChoices(longest, first ? parseDuration(first.defaultDuration) : undefined) : [],
    defaultDuration: first?.defaultDuration,
    reasonRequired: resources.some((r) => r.reasonRequired),
    ticketRequired: resources.some((r) => r.ticketRequired),
    ticketHint: resources.find((r) => r.ticketHint)?.ticketHint,
    actionsOffered: resources.some((r) => r.actions),
  };
}

export const RequestFormSchema = z.object({
  resource: z.string().trim().max(200).optional(),
  duration: z.string().trim().max(32).optional(),
  reason: z.string().max(20_000).optional(),
  ticket: z.string().trim().max(200).optional(),
  /** One action to run once instead of access (kept exactly as typed: the approval is bound to it). */
  action: z.string().max(MAX_ACTION_TEXT).optional(),
});
export type RequestFormInput = z.infer<typeof RequestFormSchema>;
export type FormField = keyof RequestFormInput;

export type FormResult = { ok: true; request: RequestRow } | { ok: false; errors: Partial<Record<FormField, string>> };

const FIELD_OF: Record<string, FormField> = {
  resourceId: "resource",
  durationSeconds: "duration",
  reason: "reason",
  ticket: "ticket",
  action: "action",
};

/** Submits the form; a refusal comes back as a message on the field it concerns, and nothing is created. */
export async function submitRequestForm(
  deps: ServiceDeps,
  requesterId: string,
  input: RequestFormInput,
): Promise<FormResult> {
  if (!input.resource) return { ok: false, errors: { resource: "Pick a resource." } };
  const duration = input.duration ? tryParseDuration(input.duration) : undefined;
  if (input.duration && duration === undefined) {
    return { ok: false, errors: { duration: `"${input.duration}" is not a duration. Use forms like 30m, 1h or 2d.` } };
  }
  try {
    if (input.action?.trim()) {
      const request = await submitAction(deps, {
        requesterId,
        resourceId: input.resource,
        action: input.action,
        ...(input.reason?.trim() ? { reason: input.reason.trim() } : {}),
        ...(input.ticket ? { ticket: input.ticket } : {}),
      });
      return { ok: true, request };
    }
    const request = await submitRequest(deps, {
      requesterId,
      resourceId: input.resource,
      ...(duration === undefined ? {} : { duration }),
      ...(input.reason?.trim() ? { reason: input.reason.trim() } : {}),
      ...(input.ticket ? { ticket: input.ticket } : {}),
    });
    return { ok: true, request };
  } catch (error) {
    if (!isAppError(error) || error.code === "internal") throw error;
    // A refusal of an action (its class, its text) belongs under the action the person typed.
    const field = FIELD_OF[String(error.details?.field ?? "")] ?? (input.action?.trim() ? "action" : "resource");
    return { ok: false, errors: { [field]: error.userMessage } };
  }
}
