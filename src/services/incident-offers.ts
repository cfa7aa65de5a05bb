import type { RequestRow } from "../domain/access-request.js";
import type { AccessTrigger } from "../domain/access-trigger.js";
import { AppError, isAppError } from "../domain/errors.js";
import type { ServiceDeps } from "./deps.js";
import type { PagerDutyDirectory } from "./pagerduty-incidents.js";
import type { Logger } from "./ports.js";
import { requestRevoke } from "./request-revoke.js";
import { submitRequest } from "./submit-request.js";

/**
 * Incident access offered instead of granted (`incidentAccess` rule with `grant: offer`): the
 * assignee gets a one-click card; the click submits the request the rule approves, with the same
 * trigger. An offer is bound to one incident, one person and one resource: only that person's
 * click counts, once, and never after the incident was resolved.
 */

export type PagerDutyTrigger = Extract<AccessTrigger, { kind: "pagerduty" }>;
export type OfferStatus = "offered" | "activating" | "activated" | "withdrawn";

export interface IncidentOffer {
  id: string;
  incidentId: string;
  personId: string;
  resourceId: string;
  trigger: PagerDutyTrigger;
  /** The rule's maximum, already capped by the policy's `duration.max`. */
  maxSeconds: number;
  /** Recorded as the auto-approval reason when it is activated. */
  approval: string;
  status: OfferStatus;
  /** activated: the request id; withdrawn: why. */
  outcome: string | null;
}

export type NewOffer = Omit<IncidentOffer, "id" | "status" | "outcome">;

export interface IncidentOfferStore {
  /** Stores the offer unless this incident already offered this resource to this person; `fresh` when new. */
  offer(offer: NewOffer): Promise<{ id: string; fresh: boolean }>;
  get(id: string): Promise<IncidentOffer | null>;
  /** offered → activating (taken `at`) for its own person, or an activation taken before `staleBefore` (its process died). */
  claim(id: string, personId: string, at: Date, staleBefore: Date): Promise<boolean>;
  finish(id: string, status: "activated" | "withdrawn", outcome: string): Promise<void>;
  /** activating → offered, after a failure worth another click. */
  release(id: string): Promise<void>;
  /** Withdraws the incident's open offers (all, or those of people not in `keep`); returns their ids. */
  withdraw(incidentId: string, why: string, keep?: string[]): Promise<string[]>;
  /** Whether a PagerDuty `incident.resolved` for this incident was stored. */
  resolveReceived(incidentId: string): Promise<boolean>;
}

/**
 * The offer store whose `resolveReceived` also asks PagerDuty (`GET /incidents/{id}`) when no
 * resolve was stored: a click must not grant for an incident whose resolve webhook is late or lost.
 * PagerDuty unreachable: what was received decides (a later resolve still revokes).
 */
export function askingPagerDuty(
  store: IncidentOfferStore,
  directory: Pick<PagerDutyDirectory, "incident">,
  logger: Logger,
): IncidentOfferStore {
  return {
    ...store,
    async resolveReceived(incidentId) {
      if (await store.resolveReceived(incidentId)) return true;
      try {
        return (await directory.incident(incidentId))?.status === "resolved";
      } catch (error) {
        logger.warn(
          { incidentId, err: error instanceof Error ? error.message : String(error) },
          "could not ask PagerDuty for the incident's status; going by the events received",
        );
        return false;
      }
    },
  };
}

export const incidentLabel = (trigger: PagerDutyTrigger): string =>
  `INC #${trigger.number ?? trigger.incidentId}${trigger.title ? `: ${trigger.title}` : ""}`;

/** Stores an offer and tells its person (a chat card); a repeat of the same offer sends nothing. */
export async function offerIncidentAccess(deps: ServiceDeps, offer: NewOffer): Promise<string> {
  if (!deps.offers) throw new Error("incident offers need an offer store (runtime wiring)");
  const { id, fresh } = await deps.offers.offer(offer);
  if (!fresh) return `${offer.resourceId} already offered to ${offer.personId} (offer ${id})`;
  await deps.store.transaction((uow) =>
    uow.appendAudit({
      type: "incident.access_offered",
      actorId: offer.personId,
      data: { offerId: id, trigger: offer.trigger, resourceId: offer.resourceId, maxSeconds: offer.maxSeconds },
    }),
  );
  await deps.notifier.publish({ type: "incident.offered", offerId: id, personId: offer.personId });
  return `offered ${offer.resourceId} to ${offer.personId} (offer ${id})`;
}

/** An activation that did not finish within this long is taken to have died with its process. */
const ACTIVATION_STALE_MS = 60_000;

/** The click on an offer card. `actorId` is the verified clicker. */
export async function activateOffer(
  deps: ServiceDeps,
  input: { offerId: string; actorId: string },
): Promise<{ offer: IncidentOffer; request: RequestRow; fresh: boolean }> {
  const offers = deps.offers;
  const offer = offers ? await offers.get(input.offerId) : null;
  if (!offers || !offer || offer.personId !== input.actorId)
    throw new AppError(
      "forbidden",
      "This offer is not yours: only the incident's assignee it was sent to can activate it. Nothing was granted.",
    );
  const label = incidentLabel(offer.trigger);
  if (offer.status === "activated") {
    const request = offer.outcome ? await deps.store.getRequest(offer.outcome) : null;
    if (request) return { offer, request, fresh: false };
  }
  if (offer.status === "withdrawn")
    throw new AppError("conflict", `Nothing was granted: ${offer.outcome ?? `the offer for ${label} was withdrawn`}.`);
  if (await offers.resolveReceived(offer.incidentId)) {
    await offers.finish(offer.id, "withdrawn", `${label} was resolved`);
    throw new AppError("conflict", `${label} is resolved: nothing was granted.`);
  }
  const now = deps.now();
  const staleBefore = new Date(now.getTime() - ACTIVATION_STALE_MS);
  if (!(await offers.claim(offer.id, input.actorId, now, staleBefore)))
    throw new AppError("conflict", `Your access for ${label} is being activated already.`);
  try {
    // Idempotent: an activation that died after submitting finds its request instead of a second one.
    const earlier = (await deps.store.listRequests({ requesterId: offer.personId, resourceId: offer.resourceId })).find(
      (r) =>
        r.snapshot.trigger?.kind === "pagerduty" &&
        r.snapshot.trigger.incidentId === offer.incidentId &&
        r.status === "approved",
    );
    const request =
      earlier ??
      (await submitRequest(deps, {
        requesterId: offer.personId,
        resourceId: offer.resourceId,
        duration: offer.maxSeconds,
        reason: `PagerDuty incident #${offer.trigger.number ?? offer.incidentId}: ${offer.trigger.title}`.trim(),
        trigger: { detail: offer.trigger, approval: `${offer.approval}, activated by its assignee` },
      }));
    // A resolve or reassignment handled while this activation ran found no grant to revoke (it did
    // not exist yet) and withdrew the offer: take back what was just granted.
    const now = await offers.get(offer.id);
    const withdrawn =
      now?.status === "withdrawn"
        ? (now.outcome ?? `the offer for ${label} was withdrawn`)
        : (await offers.resolveReceived(offer.incidentId))
          ? `${label} was resolved`
          : undefined;
    if (withdrawn !== undefined) {
      const grant = await deps.store.getGrantByRequest(request.id);
      if (grant && (grant.status === "scheduled" || grant.status === "active"))
        await requestRevoke(deps, {
          grantId: grant.id,
          actorId: grant.subjectId,
          cause: "relinquished",
          reason: withdrawn,
        });
      await offers.finish(offer.id, "withdrawn", withdrawn);
      throw new AppError("conflict", `Nothing stays granted: ${withdrawn}.`);
    }
    await offers.finish(offer.id, "activated", request.id);
    return { offer: { ...offer, status: "activated", outcome: request.id }, request, fresh: earlier === undefined };
  } catch (error) {
    if (isAppError(error)) await offers.finish(offer.id, "withdrawn", `refused: ${error.userMessage}`);
    else await offers.release(offer.id).catch(() => undefined);
    throw error;
  }
}
