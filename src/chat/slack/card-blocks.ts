import type { types } from "@slack/bolt";
import { encodeAction } from "../core/action-payload.js";
import type { Card, CardAction, CardTone } from "../core/card-model.js";
import { LIMITS, mrkdwn, plain } from "./block-kit-limits.js";

/** The neutral `Card` as Block Kit: header, status, facts as fields, notes, and buttons (none once decided). */

export type Block = types.KnownBlock;

export const ACTION_IDS = {
  approve: "sesame_approve",
  deny: "sesame_deny",
  cancel: "sesame_cancel",
  extend: "sesame_extend",
  relinquish: "sesame_relinquish",
  review: "sesame_review",
  activate: "sesame_activate",
} as const satisfies Record<CardAction["kind"], string>;

const TONE_MARK: Record<CardTone, string> = { neutral: "⚪", good: "✅", warning: "⏳", attention: "⛔" };

const BUTTON: Record<CardAction["kind"], { text: string; style?: "primary" | "danger" }> = {
  approve: { text: "Approve", style: "primary" },
  deny: { text: "Deny", style: "danger" },
  cancel: { text: "Cancel request" },
  extend: { text: "Extend" },
  relinquish: { text: "Relinquish now" },
  review: { text: "Mark reviewed", style: "primary" },
  activate: { text: "Activate access", style: "primary" },
};

function button(action: CardAction): types.Button {
  const look = BUTTON[action.kind];
  return {
    type: "button",
    action_id: ACTION_IDS[action.kind],
    text: plain(look.text, LIMITS.buttonText),
    value: encodeAction(action),
    ...(look.style ? { style: look.style } : {}),
  };
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One card in at most `budget` blocks; header, status and buttons always survive, facts and notes are cut first. */
export function cardBlocks(card: Card, budget: number = LIMITS.messageBlocks): Block[] {
  const head: Block[] = [{ type: "header", text: plain(card.title, LIMITS.headerText) }];
  if (card.status)
    head.push({
      type: "section",
      text: { type: "mrkdwn", text: mrkdwn(`${TONE_MARK[card.status.tone]} ${card.status.text}`), verbatim: true },
    });
  const tail: Block[] =
    card.actions.length > 0
      ? [{ type: "actions", elements: card.actions.slice(0, LIMITS.actionsElements).map(button) }]
      : [];
  const body: Block[] = [
    ...chunk(card.facts, LIMITS.fieldsPerSection).map(
      (facts): Block => ({
        type: "section",
        fields: facts.map((fact) => ({
          type: "mrkdwn",
          text: `*${mrkdwn(fact.label, 100)}*\n${mrkdwn(fact.value, LIMITS.fieldText - 110)}`,
          verbatim: true,
        })),
      }),
    ),
    ...card.notes.map(
      (note): Block => ({ type: "section", text: { type: "mrkdwn", text: mrkdwn(note), verbatim: true } }),
    ),
  ];
  const room = Math.max(0, budget - head.length - tail.length);
  const shown =
    body.length <= room
      ? body
      : room === 0
        ? []
        : [...body.slice(0, room - 1), omitted(body.length - room + 1, "part(s) of this card")];
  return [...head, ...shown, ...tail].slice(0, budget);
}

function omitted(count: number, what: string): Block {
  return {
    type: "context",
    elements: [{ type: "plain_text", text: `… ${count} more ${what} not shown (Slack's size limit).` }],
  };
}

const PER_CARD_IN_LIST = 12;

/** Several cards in one message or view, within `max` blocks; whole cards that do not fit are counted, not cut. */
export function cardsBlocks(cards: Card[], max: number = LIMITS.messageBlocks, lead: Block[] = []): Block[] {
  const blocks: Block[] = [...lead];
  for (const [index, card] of cards.entries()) {
    const divider = blocks.length > 0 ? 1 : 0;
    const reserve = index < cards.length - 1 ? 1 : 0;
    const room = max - blocks.length - divider - reserve;
    if (room < 3) {
      blocks.push(omitted(cards.length - index, "item(s)"));
      break;
    }
    if (divider) blocks.push({ type: "divider" });
    blocks.push(...cardBlocks(card, Math.min(room, PER_CARD_IN_LIST)));
  }
  return blocks.slice(0, max);
}

/** The message's plain `text`: notifications and clients that show no blocks. */
export function cardFallbackText(card: Card): string {
  return mrkdwn(card.status ? `${card.title}: ${card.status.text}` : card.title);
}
