import type { types } from "@slack/bolt";
import { truncate } from "../core/card-model.js";
import type { RequestFormModel } from "../core/request-form.js";
import { LIMITS, mrkdwn, plain } from "./block-kit-limits.js";
import type { CardOrigin } from "./slack-payloads.js";

/** The modals: the request form, the reason for a Deny, and how much more time for an Extend. */

export const CALLBACK_IDS = {
  request: "sesame_request_form",
  deny: "sesame_deny_reason",
  extend: "sesame_extend",
} as const;
/** Block ids of the request form, the same as the form's field names so errors map one to one. */
export const FORM_BLOCKS = {
  resource: "resource",
  duration: "duration",
  reason: "reason",
  ticket: "ticket",
  action: "action",
} as const;

const option = (value: string, label: string): types.PlainTextOption => ({
  text: plain(label, LIMITS.optionText),
  value: value.slice(0, LIMITS.optionValue),
});

function select(
  actionId: string,
  choices: { value: string; label: string }[],
  initial: string | undefined,
): types.StaticSelect {
  const options = choices.slice(0, LIMITS.options).map((c) => option(c.value, c.label));
  const initialOption = options.find((o) => o.value === initial);
  return {
    type: "static_select",
    action_id: actionId,
    options,
    ...(initialOption ? { initial_option: initialOption } : {}),
  };
}

function textInput(
  blockId: string,
  label: string,
  optional: boolean,
  options: { multiline?: boolean; hint?: string; maxLength: number },
): types.InputBlock {
  return {
    type: "input",
    block_id: blockId,
    optional,
    label: plain(label, LIMITS.inputLabel),
    element: {
      type: "plain_text_input",
      action_id: "value",
      multiline: options.multiline ?? false,
      max_length: options.maxLength,
    },
    ...(options.hint ? { hint: plain(options.hint, LIMITS.hint) } : {}),
  };
}

const metadata = (origin: CardOrigin): string => {
  const text = JSON.stringify(origin);
  if (text.length > LIMITS.privateMetadata) throw new Error("card origin does not fit in private_metadata");
  return text;
};

export function requestModal(model: RequestFormModel): types.ModalView {
  const base = {
    type: "modal" as const,
    callback_id: CALLBACK_IDS.request,
    title: plain("Request access", LIMITS.viewTitle),
    close: plain("Cancel", LIMITS.viewTitle),
  };
  if (model.resources.length === 0) {
    return {
      ...base,
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: "There is nothing you may request yet. Ask a Sesame admin to add you to a policy's `requesters`.",
          },
        },
      ],
    };
  }
  const needs = (flag: "reasonRequired" | "ticketRequired") => model.resources.filter((r) => r[flag]).map((r) => r.id);
  const everyone = (flag: "reasonRequired" | "ticketRequired") => needs(flag).length === model.resources.length;
  const requiredFor = (flag: "reasonRequired" | "ticketRequired") =>
    needs(flag).length > 0 && !everyone(flag) ? `Required for ${truncate(needs(flag).join(", "), 1_500)}.` : undefined;
  const ticketHint = [model.ticketHint, requiredFor("ticketRequired")].filter(Boolean).join(" ");
  const reasonHint = requiredFor("reasonRequired");
  return {
    ...base,
    submit: plain("Request", LIMITS.viewTitle),
    blocks: [
      {
        type: "input",
        block_id: FORM_BLOCKS.resource,
        label: plain("Resource", LIMITS.inputLabel),
        element: select(
          "value",
          model.resources.map((r) => ({ value: r.id, label: r.label })),
          model.resources.length === 1 ? model.resources[0]?.id : undefined,
        ),
      },
      {
        type: "input",
        block_id: FORM_BLOCKS.duration,
        label: plain("For how long", LIMITS.inputLabel),
        element: select(
          "value",
          model.durations.map((d) => ({ value: d, label: d })),
          model.defaultDuration,
        ),
        hint: plain("Each resource has its own maximum; Sesame tells you if this one is over it.", LIMITS.hint),
      },
      textInput(FORM_BLOCKS.reason, "Reason", !everyone("reasonRequired"), {
        multiline: true,
        maxLength: LIMITS.text,
        ...(reasonHint ? { hint: reasonHint } : {}),
      }),
      textInput(FORM_BLOCKS.ticket, "Ticket", !everyone("ticketRequired"), {
        maxLength: 200,
        ...(ticketHint ? { hint: ticketHint } : {}),
      }),
      ...(model.actionsOffered
        ? [
            textInput(FORM_BLOCKS.action, "Run one action (instead of access)", true, {
              multiline: true,
              maxLength: 3_000,
              hint: `One action (a SQL statement, a Kubernetes operation or a runner command, as the resource allows), run once after approval, exactly as typed; the duration is then ignored. For ${truncate(
                model.resources
                  .filter((r) => r.actions)
                  .map((r) => r.id)
                  .join(", "),
                1_500,
              )}.`,
            }),
          ]
        : []),
    ],
  };
}

export function denyModal(origin: CardOrigin, summary: string): types.ModalView {
  return {
    type: "modal",
    callback_id: CALLBACK_IDS.deny,
    private_metadata: metadata(origin),
    title: plain("Deny request", LIMITS.viewTitle),
    submit: plain("Deny", LIMITS.viewTitle),
    close: plain("Back", LIMITS.viewTitle),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: mrkdwn(summary) } },
      textInput("reason", "Why? The requester sees this.", false, { multiline: true, maxLength: LIMITS.fieldText }),
    ],
  };
}

export function extendModal(origin: CardOrigin, summary: string, durations: string[]): types.ModalView {
  return {
    type: "modal",
    callback_id: CALLBACK_IDS.extend,
    private_metadata: metadata(origin),
    title: plain("Extend access", LIMITS.viewTitle),
    submit: plain("Extend", LIMITS.viewTitle),
    close: plain("Back", LIMITS.viewTitle),
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: mrkdwn(summary) } },
      {
        type: "input",
        block_id: "duration",
        label: plain("How much more time", LIMITS.inputLabel),
        element: select(
          "value",
          durations.map((d) => ({ value: d, label: d })),
          durations[0],
        ),
      },
    ],
  };
}
