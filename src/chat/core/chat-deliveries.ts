import { z } from "zod";
import type { PolicyBook } from "../../domain/policy-book.js";
import type { Notification } from "../../services/ports.js";
import type { ChatPlatform } from "./chat-adapter.js";
import { pendingApprovers } from "./request-cards.js";

/**
 * Turns a core notification into chat jobs: one per card or message, so a failed DM is retried on
 * its own without re-sending the others. Jobs carry ids only; the card is built from the database
 * when the job runs, so a late job never shows an old state. Ids are deterministic: a duplicate
 * notification does not send twice.
 */

const Platform = z.enum(["slack", "teams"]);
export const ChatJobSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("approval_card"), platform: Platform, requestId: z.string(), recipient: z.string() }),
  z.object({ kind: z.literal("refresh_cards"), platform: Platform, requestId: z.string() }),
  z.object({ kind: z.literal("request_notice"), platform: Platform, requestId: z.string(), notice: z.enum(["submitted", "approved", "denied", "auto_approved", "expired", "escalated"]) }),
  z.object({ kind: z.literal("grant_notice"), platform: Platform, grantId: z.string(), notice: z.enum(["granted", "expiring", "extended", "revoked", "failed"]), expiresAt: z.string().optional() }),
]);
export type ChatJob = z.infer<typeof ChatJobSchema>;

export interface PlannedJob {
  id: string;
  job: ChatJob;
  /** When to run (expiry warnings); now when absent. */
  runAt?: Date;
}

/** How long before the end a holder is warned: 10 minutes, or a fifth of a short grant. */
export function warningLeadSeconds(durationSeconds: number): number {
  return Math.min(600, Math.max(60, Math.floor(durationSeconds / 5)));
}

/** The policy's approval channel on a platform, if it names one ("security": its break-glass channel). */
export type ChannelOf = (policyId: string, platform: ChatPlatform, purpose?: "approval" | "security") => string | undefined;

export function channelFromPolicy(book: PolicyBook): ChannelOf {
  return (policyId, platform, purpose = "approval") => {
    const policy = book.policy(policyId);
    return purpose === "security" ? policy?.breakGlass?.channels?.[platform] : policy?.approvalChannels?.[platform];
  };
}

function planFor(notification: Notification, platform: ChatPlatform, channelOf: ChannelOf): PlannedJob[] {
  const p = platform;
  switch (notification.type) {
    case "request.submitted":
    case "request.step_advanced": {
      const request = notification.request;
      const step = request.currentStep;
      const recipients = [...pendingApprovers(request)];
      const channel = channelOf(request.policyId, platform);
      if (channel) recipients.push(`channel:${channel}`);
      const cards = recipients.map((recipient) => ({ id: `${p}-card-${request.id}-${step}-${recipient}`, job: { kind: "approval_card", platform, requestId: request.id, recipient } as const }));
      if (notification.type === "request.step_advanced") {
        return [{ id: `${p}-refresh-${request.id}-v${request.version}`, job: { kind: "refresh_cards", platform, requestId: request.id } }, ...cards];
      }
      return [...cards, { id: `${p}-notice-submitted-${request.id}`, job: { kind: "request_notice", platform, requestId: request.id, notice: "submitted" } }];
    }
    case "request.escalated": {
      const { request, entry } = notification;
      const cards = pendingApprovers(request).map((recipient) => ({ id: `${p}-card-${request.id}-${request.currentStep}-${recipient}`, job: { kind: "approval_card", platform, requestId: request.id, recipient } as const }));
      return [
        { id: `${p}-refresh-${request.id}-v${request.version}`, job: { kind: "refresh_cards", platform, requestId: request.id } },
        ...cards,
        { id: `${p}-notice-escalated-${request.id}-${entry.step}`, job: { kind: "request_notice", platform, requestId: request.id, notice: "escalated" } },
      ];
    }
    case "request.break_glass": {
      const request = notification.request;
      const recipients = [...new Set(request.snapshot.steps.flatMap((step) => step.approverIds))].filter((id) => id !== request.requesterId);
      for (const channel of [channelOf(request.policyId, platform, "security"), channelOf(request.policyId, platform)]) if (channel) recipients.push(`channel:${channel}`);
      return [...new Set(recipients)].map((recipient) => ({ id: `${p}-card-${request.id}-bg-${recipient}`, job: { kind: "approval_card", platform, requestId: request.id, recipient } as const }));
    }
    case "request.reviewed":
      return [{ id: `${p}-refresh-${notification.request.id}-v${notification.request.version}`, job: { kind: "refresh_cards", platform, requestId: notification.request.id } }];
    case "request.approval_recorded":
      return [{ id: `${p}-refresh-${notification.request.id}-v${notification.request.version}`, job: { kind: "refresh_cards", platform, requestId: notification.request.id } }];
    case "request.decided": {
      const request = notification.request;
      const refresh: PlannedJob = { id: `${p}-refresh-${request.id}-v${request.version}`, job: { kind: "refresh_cards", platform, requestId: request.id } };
      // Extensions speak through grant.extended; a cancel was the requester's own doing.
      if (request.kind === "extension" && request.status === "approved") return [refresh];
      const notice = request.status === "approved" ? (request.autoApprovalReason ? "auto_approved" : "approved") : request.status === "cancelled" || request.status === "pending" ? undefined : request.status;
      return notice ? [refresh, { id: `${p}-notice-${notice}-${request.id}`, job: { kind: "request_notice", platform, requestId: request.id, notice } }] : [refresh];
    }
    case "grant.activated":
    case "grant.extended": {
      const grant = notification.grant;
      const at = grant.expiresAt.getTime();
      const notice = notification.type === "grant.activated" ? "granted" : "extended";
      const warnAt = new Date(at - warningLeadSeconds(Math.round((at - grant.startsAt.getTime()) / 1000)) * 1000);
      return [
        { id: `${p}-notice-${notice}-${grant.id}-${at}`, job: { kind: "grant_notice", platform, grantId: grant.id, notice } },
        { id: `${p}-notice-expiring-${grant.id}-${at}`, job: { kind: "grant_notice", platform, grantId: grant.id, notice: "expiring", expiresAt: grant.expiresAt.toISOString() }, runAt: warnAt },
      ];
    }
    case "grant.revoked":
      return [{ id: `${p}-notice-revoked-${notification.grant.id}`, job: { kind: "grant_notice", platform, grantId: notification.grant.id, notice: "revoked" } }];
    case "alert":
      return notification.grantId ? [{ id: `${p}-notice-failed-${notification.grantId}`, job: { kind: "grant_notice", platform, grantId: notification.grantId, notice: "failed" } }] : [];
  }
}

export function planChatJobs(notification: Notification, platforms: readonly ChatPlatform[], channelOf: ChannelOf): PlannedJob[] {
  // BullMQ refuses ':' in job ids; Slack and Teams channel ids may hold one.
  return platforms.flatMap((platform) => planFor(notification, platform, channelOf)).map((planned) => ({ ...planned, id: planned.id.replace(/[^A-Za-z0-9._@-]/g, "_") }));
}
