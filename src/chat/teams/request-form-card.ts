import type { FormField, RequestFormInput, RequestFormModel } from "../core/request-form.js";
import { type AdaptiveCardJson, CARD_SCHEMA, escapeMarkdown } from "./adaptive-card.js";
import { formData, INPUT, SUBMIT_FORM_VERB } from "./card-data.js";

/**
 * The request form as an Adaptive Card: resources this person may request, durations within the
 * policy, reason and ticket. A refused submission comes back as the same form with the answers
 * kept and each problem shown under its field.
 */

export type FormErrors = Partial<Record<FormField, string>>;

const errorLine = (errors: FormErrors, field: FormField) =>
  errors[field]
    ? [
        {
          type: "TextBlock",
          text: escapeMarkdown(errors[field]),
          color: "Attention",
          wrap: true,
          spacing: "None",
          id: `${field}-error`,
        },
      ]
    : [];

export function requestFormCard(
  model: RequestFormModel,
  values: RequestFormInput = {},
  errors: FormErrors = {},
): AdaptiveCardJson {
  const card = { type: "AdaptiveCard", $schema: CARD_SCHEMA, version: "1.5", fallbackText: "Request access" };
  const title = { type: "TextBlock", text: "Request access", size: "Medium", weight: "Bolder", wrap: true };
  if (model.resources.length === 0) {
    return {
      ...card,
      body: [
        title,
        {
          type: "TextBlock",
          wrap: true,
          text: "The policy lets you request nothing yet. Ask a Sesame admin to add you to a policy's requesters.",
        },
      ],
    };
  }
  const submit = {
    type: "Action.Execute",
    title: "Request",
    verb: SUBMIT_FORM_VERB,
    data: formData(),
    style: "positive",
  };
  return {
    ...card,
    body: [
      title,
      {
        type: "Input.ChoiceSet",
        id: INPUT.resource,
        label: "Resource",
        style: "compact",
        isRequired: true,
        errorMessage: "Pick a resource.",
        value: values.resource ?? model.resources[0]?.id,
        choices: model.resources.map((r) => ({ title: `${r.label} (up to ${r.maxDuration})`, value: r.id })),
      },
      ...errorLine(errors, "resource"),
      {
        type: "Input.ChoiceSet",
        id: INPUT.duration,
        label: "For how long",
        style: "compact",
        value: values.duration ?? model.defaultDuration,
        choices: model.durations.map((d) => ({ title: d, value: d })),
      },
      ...errorLine(errors, "duration"),
      {
        type: "Input.Text",
        id: INPUT.reason,
        label: model.reasonRequired ? "Reason (required for some resources)" : "Reason",
        isMultiline: true,
        maxLength: 2000,
        placeholder: "What you need to do and why",
        ...(values.reason ? { value: values.reason } : {}),
      },
      ...errorLine(errors, "reason"),
      {
        type: "Input.Text",
        id: INPUT.ticket,
        label: model.ticketRequired ? "Ticket (required for some resources)" : "Ticket (optional)",
        maxLength: 200,
        placeholder: model.ticketHint ?? "e.g. OPS-123",
        ...(values.ticket ? { value: values.ticket } : {}),
      },
      ...errorLine(errors, "ticket"),
      ...(model.actionsOffered
        ? [
            {
              type: "Input.Text",
              id: INPUT.action,
              label: `Run one action instead of access (${model.resources
                .filter((r) => r.actions)
                .map((r) => r.id)
                .join(", ")})`,
              isMultiline: true,
              maxLength: 20_000,
              placeholder:
                "One action (SQL, a Kubernetes operation or a runner command, as the resource allows), run once after approval, exactly as typed (the duration is then ignored)",
              ...(values.action ? { value: values.action } : {}),
            },
            ...errorLine(errors, "action"),
          ]
        : []),
    ],
    actions: [{ ...submit, fallback: { type: "Action.Submit", title: "Request", data: formData() } }],
  };
}
