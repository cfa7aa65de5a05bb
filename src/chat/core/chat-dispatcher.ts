import type { RequestRow } from "../../domain/access-request.js";
import type { ServiceDeps } from "../../services/deps.js";
import { openResult } from "../../services/run-action.js";
import type { ChatAdapter, ChatPlatform, Recipient } from "./chat-adapter.js";
import type { ChatJob } from "./chat-deliveries.js";
import type { ChatStore } from "./chat-store.js";
import { type ActionOutcomeView, grantNotice, requestNotice } from "./notices.js";
import { offerCard } from "./offer-cards.js";
import { maxTotalFor } from "./overview.js";
import { sendReminder } from "./reminders.js";
import { approvalCard, grantCard } from "./request-cards.js";

/** Runs one chat job: builds the card from the current database state and hands it to the platform's adapter. */

export interface ChatDispatcher {
  run(job: ChatJob): Promise<void>;
}

const toRecipient = (key: string): Recipient =>
  key.startsWith("channel:") ? { channel: key.slice("channel:".length) } : { identityId: key };

export function createChatDispatcher(
  deps: ServiceDeps,
  store: ChatStore,
  adapters: Map<ChatPlatform, ChatAdapter>,
): ChatDispatcher {
  const adapterFor = (platform: ChatPlatform): ChatAdapter => {
    const adapter = adapters.get(platform);
    if (!adapter) throw new Error(`chat platform ${platform} is not configured in this process`);
    return adapter;
  };

  async function approvalCardJob(job: Extract<ChatJob, { kind: "approval_card" }>): Promise<void> {
    const adapter = adapterFor(job.platform);
    const request = await deps.store.getRequest(job.requestId);
    // Decided before the card went out: nobody needs a card to act on (break-glass waits for its review instead).
    const awaitsReview = request?.breakGlass === true && request.reviewedAt === null;
    if (!request || (request.status !== "pending" && !awaitsReview)) return;
    if (await store.findMessage(job.platform, request.id, job.recipient)) return;
    const address = await adapter.post(toRecipient(job.recipient), approvalCard(deps.policy(), request));
    if (!address) {
      deps.logger.info(
        { platform: job.platform, requestId: request.id, recipient: job.recipient },
        "approver not reachable on this platform; card not sent",
      );
      return;
    }
    await store.saveMessage(job.platform, request.id, job.recipient, address);
    // A decision may have landed while the card was on its way; show it rather than live buttons.
    const latest = await deps.store.getRequest(request.id);
    if (latest && latest.version !== request.version)
      await adapter.update(address, approvalCard(deps.policy(), latest));
  }

  async function refreshJob(job: Extract<ChatJob, { kind: "refresh_cards" }>): Promise<void> {
    const adapter = adapterFor(job.platform);
    const request = await deps.store.getRequest(job.requestId);
    if (!request) return;
    const card = approvalCard(deps.policy(), request, await actionOutcome(request, false));
    const failures: unknown[] = [];
    for (const message of await store.messagesFor(job.platform, request.id)) {
      await adapter.update(message.address, card).catch((error: unknown) => failures.push(error));
    }
    if (failures.length > 0) throw failures[0];
  }

  /** An action's outcome, read when the card is built (the result only for the requester's own notice). */
  async function actionOutcome(request: RequestRow, withResult: boolean): Promise<ActionOutcomeView | undefined> {
    if (!request.snapshot.action) return undefined;
    const run = await deps.store.getActionRun(request.id);
    if (!run) return undefined;
    return { status: run.status, result: withResult ? openResult(deps, run) : null };
  }

  async function requestNoticeJob(job: Extract<ChatJob, { kind: "request_notice" }>): Promise<void> {
    const request = await deps.store.getRequest(job.requestId);
    if (!request) return;
    await adapterFor(job.platform).post(
      { identityId: request.requesterId },
      requestNotice(deps.policy(), job.notice, request, await actionOutcome(request, job.notice === "action_finished")),
    );
  }

  async function grantNoticeJob(job: Extract<ChatJob, { kind: "grant_notice" }>): Promise<void> {
    const grant = await deps.store.getGrant(job.grantId);
    if (!grant) return;
    // An expiry warning for an end that moved (extended) or a grant already gone says nothing.
    if (job.notice === "expiring" && (grant.status !== "active" || grant.expiresAt.toISOString() !== job.expiresAt))
      return;
    const card = grantNotice(deps.policy(), job.notice, grant, await maxTotalFor(deps, grant));
    const address = await adapterFor(job.platform).post({ identityId: grant.subjectId }, card);
    // A card with Extend / Relinquish is redrawn when the grant moves on, so it never stays on "revoking".
    if (address && card.actions.length > 0)
      await store.saveGrantMessage(job.platform, grant.id, `${job.notice}-${grant.expiresAt.getTime()}`, address);
  }

  async function refreshGrantCardsJob(job: Extract<ChatJob, { kind: "refresh_grant_cards" }>): Promise<void> {
    const adapter = adapterFor(job.platform);
    const grant = await deps.store.getGrant(job.grantId);
    if (!grant) return;
    const card = grantCard(deps.policy(), grant, await maxTotalFor(deps, grant));
    const failures: unknown[] = [];
    for (const address of await store.grantMessagesFor(job.platform, grant.id))
      await adapter.update(address, card).catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  }

  /** The one-click card of an incident offer, to its person; sent at most once per platform. */
  async function offerJob(job: Extract<ChatJob, { kind: "incident_offer" }>): Promise<void> {
    const offer = await deps.offers?.get(job.offerId);
    if (offer?.status !== "offered") return;
    const claim = `${job.platform}-offer-${offer.id}`;
    if (!(await store.claimDelivery(claim))) return;
    try {
      const address = await adapterFor(job.platform).post(
        { identityId: offer.personId },
        offerCard(deps.policy(), offer),
      );
      if (!address)
        deps.logger.info(
          { platform: job.platform, offerId: offer.id, personId: offer.personId },
          "offer's person not reachable on this platform; card not sent",
        );
    } catch (error) {
      await store.releaseDelivery(claim).catch(() => undefined);
      throw error;
    }
  }

  return {
    async run(job) {
      switch (job.kind) {
        case "approval_card":
          return approvalCardJob(job);
        case "refresh_cards":
          return refreshJob(job);
        case "request_notice":
          return requestNoticeJob(job);
        case "grant_notice":
          return grantNoticeJob(job);
        case "refresh_grant_cards":
          return refreshGrantCardsJob(job);
        case "reminder":
          return sendReminder(deps, store, adapterFor(job.platform), job);
        case "incident_offer":
          return offerJob(job);
      }
    },
  };
}
