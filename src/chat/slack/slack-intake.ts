import type { IntakeEntry, StoredIntake } from "../core/chat-intake.js";
import { CALLBACK_IDS } from "./slack-modals.js";

/**
 * Which Slack payloads go through the durable intake, under which key: a slash command or a click
 * by its `trigger_id`, a modal submission by its view id (one modal submits once; a form refused
 * for its fields gives its key back). Stored payloads lose `response_url` (kept sealed beside
 * them) and the deprecated verification `token`; `restoredBody` puts the reply URL back.
 */

export const REQUEST_FORM_CALLBACK = CALLBACK_IDS.request;

export interface IntakeOf {
  entry: IntakeEntry;
  callbackId?: string;
  /** A click or command answered by opening a modal (its trigger id lives 3 s): run at once, not queued. */
  opensModal?: boolean;
}

/** Buttons that open a modal (Deny asks a reason, Extend a duration). */
const MODAL_BUTTONS = new Set(["sesame_deny", "sesame_extend"]);

const str = (value: unknown): string | undefined => (typeof value === "string" && value ? value : undefined);

function stripped(body: Record<string, unknown>): Record<string, unknown> {
  const { response_url: _url, response_urls: _urls, token: _token, ...rest } = body;
  return rest;
}

export function intakeOf(body: Record<string, unknown>): IntakeOf | undefined {
  const trigger = str(body.trigger_id);
  const replyTo = str(body.response_url);
  if (str(body.command) && trigger)
    return {
      opensModal: !str(body.text)?.trim(),
      entry: {
        platform: "slack",
        kind: "command",
        key: `command-${trigger}`,
        payload: stripped(body),
        ...(replyTo ? { replyTo } : {}),
      },
    };
  if (body.type === "block_actions" && trigger)
    return {
      opensModal:
        Array.isArray(body.actions) &&
        body.actions.some((a: { action_id?: unknown } | null) => MODAL_BUTTONS.has(String(a?.action_id))),
      entry: {
        platform: "slack",
        kind: "action",
        key: `action-${trigger}`,
        payload: stripped(body),
        ...(replyTo ? { replyTo } : {}),
      },
    };
  if (body.type === "view_submission") {
    const view = body.view as { id?: unknown; callback_id?: unknown } | undefined;
    const viewId = str(view?.id);
    const callbackId = str(view?.callback_id);
    if (!viewId || !callbackId || !Object.values(CALLBACK_IDS).includes(callbackId as never)) return undefined;
    return { entry: { platform: "slack", kind: "view", key: `view-${viewId}`, payload: stripped(body) }, callbackId };
  }
  return undefined;
}

export function restoredBody(stored: StoredIntake): Record<string, unknown> {
  return { ...stored.payload, ...(stored.replyTo ? { response_url: stored.replyTo } : {}) };
}

/** The user a stored payload came from (to tell them when it failed for good). */
export function userOf(stored: StoredIntake): string | undefined {
  const payload = stored.payload as { user_id?: unknown; user?: { id?: unknown } };
  return str(payload.user_id) ?? str(payload.user?.id);
}
