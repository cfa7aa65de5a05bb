import type { RequestRow } from "../../domain/access-request.js";
import type { PolicyBook } from "../../domain/policy/policy-book.js";
import type { ServiceDeps } from "../../services/deps.js";
import { durationText, formatTime, personName, shortId } from "./card-text.js";
import { type ChatAdapter, type ChatPlatform, type MessageAddress, recipientKey } from "./chat-adapter.js";
import { type ChatJob, channelFromPolicy, reminderKey } from "./chat-deliveries.js";
import type { ChatStore } from "./chat-store.js";
import { pendingApprovers } from "./request-cards.js";

/**
 * A remind step of the escalation ladder, for one approver still pending. Editing their card
 * notifies nobody, so this goes out as a message of its own (see ChatAdapter.remind), at most once
 * per person and step: the message is claimed in the database before it is sent, and the claim is
 * given back only when sending failed, so a retried or re-run job never sends it twice.
 */

export function reminderText(book: PolicyBook, request: RequestRow): string {
  const what = `${request.resourceId} for ${durationText(request.durationSeconds)}`;
  return (
    `Reminder: ${personName(book, request.requesterId)} has been waiting since ${formatTime(request.createdAt)} ` +
    `for your decision on ${what} (request ${shortId(request.id)}). Approve or deny it on its card before ` +
    `${formatTime(request.pendingUntil)}, or find it with "request-access list".`
  );
}

/** The person's own card, else the policy channel's copy (where Teams @mentions approvers it cannot message). */
async function reminderTarget(
  deps: ServiceDeps,
  store: ChatStore,
  platform: ChatPlatform,
  request: RequestRow,
  recipient: string,
): Promise<MessageAddress | null> {
  const own = await store.findMessage(platform, request.id, recipient);
  if (own) return own;
  const channel = channelFromPolicy(deps.policy())(request.policyId, platform);
  return channel ? store.findMessage(platform, request.id, recipientKey({ channel })) : null;
}

export async function sendReminder(
  deps: ServiceDeps,
  store: ChatStore,
  adapter: ChatAdapter,
  job: Extract<ChatJob, { kind: "reminder" }>,
): Promise<void> {
  const request = await deps.store.getRequest(job.requestId);
  if (!request || !pendingApprovers(request).includes(job.recipient)) return;
  const key = reminderKey(job.platform, request.id, job.step, job.recipient);
  if (!(await store.claimDelivery(key))) return;
  try {
    const card = await reminderTarget(deps, store, job.platform, request, job.recipient);
    const reached = await adapter.remind({ identityId: job.recipient }, card, reminderText(deps.policy(), request));
    if (!reached)
      deps.logger.info(
        { platform: job.platform, requestId: request.id, recipient: job.recipient },
        "approver not reachable on this platform; reminder not sent",
      );
  } catch (error) {
    await store.releaseDelivery(key);
    throw error;
  }
}
