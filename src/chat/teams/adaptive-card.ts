import type { Card, CardAction, CardTone } from "../core/card-model.js";
import { actionData, INPUT, REFRESH_VERB, refreshData } from "./card-data.js";

/**
 * The neutral `Card` as an Adaptive Card 1.5 (what Teams renders). Buttons are `Action.Execute`
 * (Universal Actions) with an `Action.Submit` fallback for older clients; approval cards carry a
 * `refresh` so each approver sees live buttons and everyone else a read-only card.
 */

export type AdaptiveCardJson = Record<string, unknown>;

export const CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json";

/** Teams refreshes a card automatically for at most 60 users. */
export const MAX_REFRESH_USERS = 60;

export interface CardView {
  /** Whether this copy shows the card's buttons. */
  actionable: boolean;
  /** Teams user ids that refresh the card on view (approvers, for user-specific views). */
  refreshFor: string[];
  /** A line for this viewer only (a refusal, a confirmation), shown above the card. */
  notice?: { tone: CardTone; text: string };
}

const COLOR: Record<CardTone, string> = {
  neutral: "Default",
  good: "Good",
  warning: "Warning",
  attention: "Attention",
};

/** Card text is plain: markdown punctuation is escaped so a reason cannot add links or formatting. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>~]/g, (c) => `\\${c}`);
}

const textBlock = (text: string, extra: Record<string, unknown> = {}) => ({
  type: "TextBlock",
  text: escapeMarkdown(text),
  wrap: true,
  ...extra,
});

function execute(title: string, action: CardAction, style?: "positive" | "destructive") {
  const data = actionData(action);
  return {
    type: "Action.Execute",
    title,
    verb: action.kind,
    data,
    ...(style ? { style } : {}),
    fallback: { type: "Action.Submit", title, data },
  };
}

function renderAction(action: CardAction): Record<string, unknown> {
  switch (action.kind) {
    case "approve":
      return execute("Approve", action, "positive");
    case "deny":
      return {
        type: "Action.ShowCard",
        title: "Deny…",
        card: {
          type: "AdaptiveCard",
          body: [
            {
              type: "Input.Text",
              id: INPUT.reason,
              label: "Reason (the requester sees it)",
              isMultiline: true,
              maxLength: 500,
              placeholder: "Why not?",
            },
          ],
          actions: [execute("Deny", action, "destructive")],
        },
      };
    case "cancel":
      return execute("Cancel request", action);
    case "relinquish":
      return execute("Relinquish now", action);
    case "review":
      return execute("Mark reviewed", action, "positive");
    case "activate":
      return execute("Activate access", action, "positive");
    case "extend":
      return {
        type: "Action.ShowCard",
        title: "Extend…",
        card: {
          type: "AdaptiveCard",
          body: [
            {
              type: "Input.ChoiceSet",
              id: INPUT.duration,
              label: "How much more time",
              style: "compact",
              value: action.durations[0],
              choices: action.durations.map((d) => ({ title: d, value: d })),
            },
          ],
          actions: [execute("Extend", action, "positive")],
        },
      };
  }
}

/** The request an approval card is about (it refreshes while that request is pending). */
export function approvalRequestOf(card: Card): string | undefined {
  const action = card.actions.find((a) => a.kind === "approve" || a.kind === "deny" || a.kind === "review");
  return action && "requestId" in action ? action.requestId : undefined;
}

export function renderAdaptiveCard(card: Card, view: CardView): AdaptiveCardJson {
  const requestId = approvalRequestOf(card);
  const body = [
    ...(view.notice ? [textBlock(view.notice.text, { color: COLOR[view.notice.tone], weight: "Bolder" })] : []),
    textBlock(card.title, { size: "Medium", weight: "Bolder" }),
    ...(card.status ? [textBlock(card.status.text, { color: COLOR[card.status.tone], spacing: "Small" })] : []),
    ...(card.facts.length > 0
      ? [
          {
            type: "FactSet",
            facts: card.facts.map((f) => ({ title: escapeMarkdown(f.label), value: escapeMarkdown(f.value) })),
          },
        ]
      : []),
    ...card.notes.map((note) => textBlock(note, { isSubtle: true })),
  ];
  const actions = view.actionable ? card.actions.map(renderAction) : [];
  return {
    type: "AdaptiveCard",
    $schema: CARD_SCHEMA,
    version: "1.5",
    fallbackText: card.title,
    ...(requestId
      ? {
          refresh: {
            action: { type: "Action.Execute", title: "Refresh", verb: REFRESH_VERB, data: refreshData(requestId) },
            userIds: view.refreshFor.slice(0, MAX_REFRESH_USERS),
          },
        }
      : {}),
    body,
    ...(actions.length > 0 ? { actions } : {}),
  };
}

/** What a refresh shows someone who may not see the request: no facts, no buttons, no refresh. */
export function notYoursCard(): AdaptiveCardJson {
  return {
    type: "AdaptiveCard",
    $schema: CARD_SCHEMA,
    version: "1.5",
    fallbackText: "Sesame access request",
    body: [
      textBlock("Sesame access request", { size: "Medium", weight: "Bolder" }),
      textBlock("Only the requester, the approvers and Sesame admins can see this request.", { isSubtle: true }),
    ],
  };
}
