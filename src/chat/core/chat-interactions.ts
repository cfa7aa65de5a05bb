import type { RequestRow } from "../../domain/access-request.js";
import { isAppError } from "../../domain/errors.js";
import type { GrantRow } from "../../domain/grant.js";
import { isNamedBy } from "../../domain/visibility.js";
import { reviewBreakGlass } from "../../services/break-glass.js";
import { cancelRequest } from "../../services/cancel-request.js";
import { decideRequest } from "../../services/decide-request.js";
import type { ServiceDeps } from "../../services/deps.js";
import { extendGrant } from "../../services/extend-grant.js";
import { activateOffer, incidentLabel } from "../../services/incident-offers.js";
import { relinquishGrant } from "../../services/relinquish-grant.js";
import type { ButtonValue } from "./action-payload.js";
import type { Card } from "./card-model.js";
import { durationText, formatTime } from "./card-text.js";
import { offerCard } from "./offer-cards.js";
import { maxTotalFor } from "./overview.js";
import { approvalCard, grantCard, myRequestCard } from "./request-cards.js";

/**
 * A click on a card, from any platform. `actorId` is the identity of the verified platform user;
 * the button value only names the request and the version the clicker saw. The core decides
 * whether that person may act; a refusal comes back as a sentence for the clicker alone.
 */

export interface ActionOutcome {
  ok: boolean;
  /** For the clicker only (Slack ephemeral message, Teams toast or reply). */
  message: string;
  request?: RequestRow;
  grant?: GrantRow;
  /** Activate: the offer, when the clicker is its person (only they see it redrawn). */
  offerId?: string;
}

export interface ActionInput {
  /** Deny: the approver's reason. */
  reason?: string;
  /** Extend: how much more time. */
  duration?: string;
}

async function run(
  action: ButtonValue,
  deps: ServiceDeps,
  actorId: string,
  input: ActionInput,
): Promise<ActionOutcome> {
  switch (action.kind) {
    case "approve": {
      const request = await decideRequest(deps, {
        requestId: action.requestId,
        actorId,
        decision: "approve",
        expectedVersion: action.version,
      });
      const message =
        request.status === "approved"
          ? "Approved. Sesame is granting the access now."
          : "Your approval was recorded; the request needs more approvals.";
      return { ok: true, message, request };
    }
    case "deny": {
      const request = await decideRequest(deps, {
        requestId: action.requestId,
        actorId,
        decision: "deny",
        expectedVersion: action.version,
        ...(input.reason?.trim() ? { comment: input.reason.trim() } : {}),
      });
      return { ok: true, message: "Denied. The requester has been told.", request };
    }
    case "cancel": {
      const request = await cancelRequest(deps, { requestId: action.requestId, actorId });
      return { ok: true, message: "Your request was cancelled.", request };
    }
    case "review": {
      const request = await reviewBreakGlass(deps, {
        requestId: action.requestId,
        actorId,
        ...(input.reason?.trim() ? { note: input.reason.trim() } : {}),
      });
      return { ok: true, message: "Thanks: the break-glass access is marked as reviewed.", request };
    }
    case "relinquish": {
      const grant = await relinquishGrant(deps, { grantId: action.grantId, actorId });
      return { ok: true, message: "Thanks: your access is being removed now.", grant };
    }
    case "activate": {
      const { offer, request, fresh } = await activateOffer(deps, { offerId: action.offerId, actorId });
      const label = incidentLabel(offer.trigger);
      const message = fresh
        ? `Activated: Sesame is granting ${offer.resourceId} for ${label} now.`
        : `Already activated for ${label} (request ${request.id.slice(0, 8)}); nothing new was requested.`;
      return { ok: true, message, request, offerId: offer.id };
    }
    case "extend": {
      if (!input.duration) return { ok: false, message: "Pick how much more time you need." };
      const { request, grant } = await extendGrant(deps, {
        grantId: action.grantId,
        actorId,
        duration: input.duration,
      });
      const message =
        request.status === "approved"
          ? `Extended: your access now lasts until ${formatTime(grant.expiresAt)}.`
          : `Your extension by ${durationText(request.durationSeconds)} is waiting for approval.`;
      return { ok: true, message, request, grant };
    }
  }
}

export async function performCardAction(
  deps: ServiceDeps,
  actorId: string,
  action: ButtonValue,
  input: ActionInput = {},
): Promise<ActionOutcome> {
  try {
    return await run(action, deps, actorId, input);
  } catch (error) {
    if (!isAppError(error) || error.code === "internal") throw error;
    const current = "requestId" in action ? await deps.store.getRequest(action.requestId) : null;
    // The current state goes back (to refresh the clicked card) only to people the request names.
    const named = current && isNamedBy(current, actorId);
    // A refused activation redraws the offer (withdrawn, already activated) for its own person only.
    const offer = action.kind === "activate" ? await deps.offers?.get(action.offerId) : null;
    const own = offer?.personId === actorId;
    return {
      ok: false,
      message: error.userMessage,
      ...(named ? { request: current } : {}),
      ...(own ? { offerId: offer.id } : {}),
    };
  }
}

/** The card the clicked message should show now: the request or grant in its current state (undefined when the action changed nothing the clicker may see). */
export async function cardAfterAction(
  deps: ServiceDeps,
  action: ButtonValue,
  outcome: ActionOutcome,
): Promise<Card | undefined> {
  const book = deps.policy();
  switch (action.kind) {
    case "approve":
    case "deny":
    case "review":
      return outcome.request ? approvalCard(book, outcome.request) : undefined;
    case "cancel":
      return outcome.request ? myRequestCard(book, outcome.request) : undefined;
    case "activate": {
      // Only its own person sees the offer redrawn (a stranger's click gets a sentence, never the offer).
      const offer = outcome.offerId ? await deps.offers?.get(outcome.offerId) : undefined;
      return offer ? offerCard(book, offer) : undefined;
    }
    case "extend":
    case "relinquish": {
      if (!outcome.grant) return undefined;
      // Read again: a quick revoke may already have finished, and its own redraw may land before this one.
      const grant = (await deps.store.getGrant(outcome.grant.id)) ?? outcome.grant;
      return grantCard(book, grant, await maxTotalFor(deps, grant));
    }
  }
}
