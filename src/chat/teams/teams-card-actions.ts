import { canSeeRequest } from "../../domain/visibility.js";
import type { Card } from "../core/card-model.js";
import { durationText, formatTime, shortId } from "../core/card-text.js";
import type { ChatContext } from "../core/chat-context.js";
import type { ChatUser } from "../core/chat-identity.js";
import { cardAfterAction, performCardAction } from "../core/chat-interactions.js";
import { approvalCard, myRequestCard } from "../core/request-cards.js";
import { requestFormModel, submitRequestForm } from "../core/request-form.js";
import {
  type AdaptiveCardJson,
  approvalRequestOf,
  type CardView,
  notYoursCard,
  renderAdaptiveCard,
} from "./adaptive-card.js";
import type { CardData } from "./card-data.js";
import { requestFormCard } from "./request-form-card.js";
import { teamsUserIds } from "./teams-conversations.js";

/**
 * What a card click (Action.Execute invoke or Action.Submit message) turns into: the card the
 * clicker should now see, or a sentence when there is no card to show them. `actorId` is the
 * identity of the verified Teams user; the card data only names the request or grant.
 */

export type CardAnswer = { card: AdaptiveCardJson } | { message: string };

/** Renders a card for one viewer: buttons only if they may use them; approvers refresh to their own view. */
export async function cardFor(
  context: ChatContext,
  card: Card,
  viewerId: string | null,
  notice?: CardView["notice"],
): Promise<AdaptiveCardJson> {
  const actionable = card.actionableBy.length === 0 || (viewerId !== null && card.actionableBy.includes(viewerId));
  const refreshFor = approvalRequestOf(card) ? await teamsUserIds(context.store, card.actionableBy) : [];
  return renderAdaptiveCard(card, { actionable, refreshFor, ...(notice ? { notice } : {}) });
}

/**
 * A refresh shows the request only to people allowed to see it (the rule the API applies); anyone
 * else, linked or not, gets the same card whether or not the request exists, so the answer says
 * nothing about it.
 */
async function refreshAnswer(context: ChatContext, requestId: string, viewerId: string | null): Promise<CardAnswer> {
  const { deps } = context;
  const request = await deps.store.getRequest(requestId);
  if (!request || viewerId === null || !canSeeRequest(request, viewerId, deps.policy().isAdmin(viewerId)))
    return { card: notYoursCard() };
  return { card: await cardFor(context, approvalCard(deps.policy(), request), viewerId) };
}

async function buttonAnswer(
  context: ChatContext,
  actorId: string,
  data: Extract<CardData, { kind: "button" }>,
): Promise<CardAnswer> {
  const { deps } = context;
  const outcome = await performCardAction(deps, actorId, data.value, {
    ...(data.reason ? { reason: data.reason } : {}),
    ...(data.duration ? { duration: data.duration } : {}),
  });
  const notice = { tone: outcome.ok ? ("good" as const) : ("attention" as const), text: outcome.message };
  const card = await cardAfterAction(deps, data.value, outcome);
  return card ? { card: await cardFor(context, card, actorId, notice) } : { message: outcome.message };
}

async function formAnswer(
  context: ChatContext,
  actorId: string,
  data: Extract<CardData, { kind: "form" }>,
): Promise<CardAnswer> {
  const { deps } = context;
  const result = await submitRequestForm(deps, actorId, data.input);
  if (!result.ok) return { card: requestFormCard(requestFormModel(deps.policy(), actorId), data.input, result.errors) };
  const request = result.request;
  const text =
    request.status === "approved"
      ? `Auto-approved: ${request.resourceId} for ${durationText(request.durationSeconds)}. You will get a message when the access is ready.`
      : `Requested ${request.resourceId} for ${durationText(request.durationSeconds)}. Request ${shortId(request.id)} waits for approval until ${formatTime(request.pendingUntil)}.`;
  return { card: await cardFor(context, myRequestCard(deps.policy(), request), actorId, { tone: "good", text }) };
}

/** A viewer Sesame does not know may only see (refresh), never act; they are told what an admin must add. */
export async function answerCardData(context: ChatContext, actor: ChatUser, data: CardData): Promise<CardAnswer> {
  if (data.kind === "refresh") return refreshAnswer(context, data.requestId, actor.identityId);
  if (actor.identityId === null) return { message: actor.message };
  if (data.kind === "form") return formAnswer(context, actor.identityId, data);
  return buttonAnswer(context, actor.identityId, data);
}
