import { truncate } from "../core/card-model.js";

/**
 * Slack's Block Kit limits (docs.slack.dev/reference/block-kit). Every block Sesame sends goes
 * through these helpers, so a 10,000-character reason is shortened visibly instead of making
 * Slack reject the whole message with `invalid_blocks`.
 */
export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  text: 3_000,
  fieldText: 2_000,
  fieldsPerSection: 10,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2_000,
  actionsElements: 25,
  id: 255,
  privateMetadata: 3_000,
  optionText: 75,
  optionValue: 150,
  options: 100,
  viewTitle: 24,
  inputLabel: 2_000,
  hint: 2_000,
  placeholder: 150,
} as const;

/** Escapes the three characters Slack's mrkdwn treats as control characters, so user text cannot form links or mentions. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escaped mrkdwn no longer than `max`. Escaping lengthens text, so the cut is made before escaping: the longest cut that still fits. */
export function mrkdwn(text: string, max: number = LIMITS.text): string {
  const fits = (room: number) => escapeMrkdwn(truncate(text, room)).length <= max;
  if (fits(max)) return escapeMrkdwn(truncate(text, max));
  let low = 0;
  let high = max;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle;
  }
  return escapeMrkdwn(truncate(text, low));
}

export const plain = (text: string, max: number) => ({
  type: "plain_text" as const,
  text: truncate(text, max) || " ",
  emoji: false,
});
