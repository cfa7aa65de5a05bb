import type { PolicyBook } from "../../domain/policy/policy-book.js";
import { type IncidentOffer, incidentLabel } from "../../services/incident-offers.js";
import type { Card } from "./card-model.js";
import { durationText, resourceLabel, shortId, triggerFacts } from "./card-text.js";

/**
 * The card an incident's assignee gets when its rule offers access (`grant: offer`): one button
 * while the offer stands, the outcome once it was activated or withdrawn.
 */
export function offerCard(book: PolicyBook, offer: IncidentOffer): Card {
  const label = incidentLabel(offer.trigger);
  const open = offer.status === "offered" || offer.status === "activating";
  const status: Card["status"] =
    offer.status === "activated"
      ? { tone: "good", text: `Activated${offer.outcome ? `: request ${shortId(offer.outcome)}` : ""}` }
      : offer.status === "withdrawn"
        ? { tone: "neutral", text: `Nothing to activate: ${offer.outcome ?? "the offer was withdrawn"}` }
        : { tone: "warning", text: "Not active until you click" };
  return {
    title: `Activate access to ${offer.resourceId} for ${label}`,
    status,
    facts: [
      ...triggerFacts(offer.trigger),
      { label: "Resource", value: resourceLabel(book, offer.resourceId) },
      { label: "For at most", value: `${durationText(offer.maxSeconds)}, and only until the incident is resolved` },
    ],
    notes: open
      ? [
          "You are assigned this incident. One click grants the access at once (approved by the incidentAccess rule); it ends when the incident is resolved or reassigned.",
        ]
      : [],
    actions: offer.status === "offered" ? [{ kind: "activate", offerId: offer.id }] : [],
    actionableBy: [offer.personId],
  };
}
