import type { WebClient } from "@slack/web-api";
import type { ButtonValue } from "../core/action-payload.js";
import type { Card } from "../core/card-model.js";
import { RetryLater } from "../core/chat-intake.js";
import { type ActionOutcome, cardAfterAction } from "../core/chat-interactions.js";
import { isTransientFailure } from "../transient-failure.js";
import { mrkdwn } from "./block-kit-limits.js";
import { cardBlocks, cardFallbackText } from "./card-blocks.js";
import { errorText } from "./slack-errors.js";
import { publishHome } from "./slack-home.js";
import type { SlackListenerDeps } from "./slack-listener-deps.js";
import type { CardOrigin } from "./slack-payloads.js";

/** What the clicker sees after a click: a message for them alone, and the clicked card redrawn in its current state. */

/** Ephemeral in the card's channel; as a DM when the click came from App Home (no channel). */
export async function tellClicker(
  client: WebClient,
  userId: string,
  origin: Pick<CardOrigin, "channel"> | undefined,
  text: string,
): Promise<void> {
  if (origin?.channel) await client.chat.postEphemeral({ channel: origin.channel, user: userId, text: mrkdwn(text) });
  else await client.chat.postMessage({ channel: userId, text: mrkdwn(text) });
}

const INTERNAL_PROBLEM =
  "Sesame hit an internal problem with this. Check /request-access list before trying again; if it keeps failing, tell a Sesame admin.";

/** Runs a listener's slow part; a crash is logged and the clicker is told instead of being left without an answer. */
export async function guarded(
  deps: SlackListenerDeps,
  client: WebClient,
  userId: string,
  origin: Pick<CardOrigin, "channel"> | undefined,
  work: () => Promise<void>,
  /** A later attempt follows (the action was stored): a failure that changed nothing is retried, not reported. */
  retryable = false,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (retryable && isTransientFailure(error)) throw new RetryLater(error);
    deps.context.logger.error({ userId, error: errorText(error) }, "Slack interaction failed");
    await tellClicker(client, userId, origin, INTERNAL_PROBLEM).catch(() => undefined);
  }
}

/** Redraws the clicked message (or App Home) right away; the chat queue then refreshes every other copy. */
export async function redrawOrigin(
  deps: SlackListenerDeps,
  client: WebClient,
  userId: string,
  identityId: string,
  origin: CardOrigin,
  action: ButtonValue,
  outcome: ActionOutcome,
): Promise<void> {
  if (origin.home) return publishHome(deps.context, client, userId, identityId);
  if (!origin.channel || !origin.ts) return;
  const { channel, ts } = origin;
  const redraw = (card: Card) =>
    client.chat.update({ channel, ts, text: cardFallbackText(card), blocks: cardBlocks(card) });
  const card = await cardAfterAction(deps.context.deps, action, outcome);
  if (!card) return;
  await redraw(card);
  // The chat queue redraws a grant's cards when the grant moves on; if that happened while this
  // redraw was on its way, this one may have covered it: draw the current state once more.
  if (outcome.grant && (action.kind === "relinquish" || action.kind === "extend")) {
    const now = await cardAfterAction(deps.context.deps, action, outcome);
    if (now && now.title !== card.title) await redraw(now);
  }
}
