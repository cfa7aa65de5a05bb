import { z } from "zod";
import type { RequestRow } from "../../domain/access-request.js";
import type { GrantRow } from "../../domain/grant.js";
import type { PolicyBook } from "../../domain/policy/policy-book.js";
import type { Notification } from "../../services/ports.js";
import { type ChatPlatform, recipientKey } from "./chat-adapter.js";
import { GRANT_NOTICES, type GrantNotice, REQUEST_NOTICES, type RequestNotice } from "./notices.js";
import { pendingApprovers, reviewers } from "./request-cards.js";

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
  z.object({
    kind: z.literal("request_notice"),
    platform: Platform,
    requestId: z.string(),
    notice: z.enum(REQUEST_NOTICES),
  }),
  z.object({
    kind: z.literal("reminder"),
    platform: Platform,
    requestId: z.string(),
    step: z.number().int(),
    recipient: z.string(),
  }),
  z.object({ kind: z.literal("refresh_grant_cards"), platform: Platform, grantId: z.string() }),
  z.object({
    kind: z.literal("grant_notice"),
    platform: Platform,
    grantId: z.string(),
    notice: z.enum(GRANT_NOTICES),
    expiresAt: z.string().optional(),
  }),
  z.object({ kind: z.literal("incident_offer"), platform: Platform, offerId: z.string() }),
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

/**
 * When to warn the holder that a grant ends, or nothing for a grant so short that the warning
 * would come in its first half (a 60 s grant would be "ending" at once, even before "is active").
 */
export function expiryWarningAt(grant: Pick<GrantRow, "startsAt" | "activatedAt" | "expiresAt">): Date | undefined {
  const end = grant.expiresAt.getTime();
  const lengthSeconds = Math.round((end - (grant.activatedAt ?? grant.startsAt).getTime()) / 1000);
  const leadSeconds = warningLeadSeconds(lengthSeconds);
  return lengthSeconds >= 2 * leadSeconds ? new Date(end - leadSeconds * 1000) : undefined;
}

/** The policy's approval channel on a platform, if it names one ("security": its break-glass channel). */
export type ChannelOf = (
  policyId: string,
  platform: ChatPlatform,
  purpose?: "approval" | "security",
) => string | undefined;

export function channelFromPolicy(book: PolicyBook): ChannelOf {
  return (policyId, platform, purpose = "approval") => {
    const policy = book.policy(policyId);
    return purpose === "security" ? policy?.breakGlass?.channels?.[platform] : policy?.approvalChannels?.[platform];
  };
}

/** A reminder's job id, which is also its claim: one message per person, platform and ladder step, ever. */
export const reminderKey = (platform: ChatPlatform, requestId: string, step: number, recipient: string): string =>
  `${platform}-remind-${requestId}-${step}-${recipient}`.replace(/[^A-Za-z0-9._@-]/g, "_");

/** The few job shapes the plans are made of; ids say what and for which state, so repeats are not sent twice. */
function jobsOn(platform: ChatPlatform) {
  const p = platform;
  return {
    cards: (request: RequestRow, recipients: string[], round: string | number): PlannedJob[] =>
      [...new Set(recipients)].map((recipient) => ({
        id: `${p}-card-${request.id}-${round}-${recipient}`,
        job: { kind: "approval_card", platform, requestId: request.id, recipient },
      })),
    refresh: (request: RequestRow, suffix = ""): PlannedJob => ({
      id: `${p}-refresh-${request.id}-v${request.version}${suffix ? `-${suffix}` : ""}`,
      job: { kind: "refresh_cards", platform, requestId: request.id },
    }),
    reminders: (request: RequestRow, step: number): PlannedJob[] =>
      pendingApprovers(request).map((recipient) => ({
        id: reminderKey(platform, request.id, step, recipient),
        job: { kind: "reminder", platform, requestId: request.id, step, recipient },
      })),
    refreshGrant: (grantId: string, state: string): PlannedJob => ({
      id: `${p}-grant-cards-${grantId}-${state}`,
      job: { kind: "refresh_grant_cards", platform, grantId },
    }),
    requestNotice: (request: RequestRow, notice: RequestNotice, suffix = ""): PlannedJob => ({
      id: `${p}-notice-${notice}-${request.id}${suffix}`,
      job: { kind: "request_notice", platform, requestId: request.id, notice },
    }),
    grantNotice: (
      grantId: string,
      notice: GrantNotice,
      suffix = "",
      extra: { expiresAt?: string; runAt?: Date } = {},
    ): PlannedJob => ({
      id: `${p}-notice-${notice}-${grantId}${suffix}`,
      job: {
        kind: "grant_notice",
        platform,
        grantId,
        notice,
        ...(extra.expiresAt ? { expiresAt: extra.expiresAt } : {}),
      },
      ...(extra.runAt ? { runAt: extra.runAt } : {}),
    }),
  };
}

function planFor(notification: Notification, platform: ChatPlatform, channelOf: ChannelOf): PlannedJob[] {
  const jobs = jobsOn(platform);
  const channels = (policyId: string, ...purposes: ("approval" | "security")[]) =>
    purposes.flatMap((purpose) => {
      const channel = channelOf(policyId, platform, purpose);
      return channel ? [recipientKey({ channel })] : [];
    });
  switch (notification.type) {
    case "request.submitted": {
      const request = notification.request;
      return [
        ...jobs.cards(
          request,
          [...pendingApprovers(request), ...channels(request.policyId, "approval")],
          request.currentStep,
        ),
        jobs.requestNotice(request, "submitted"),
      ];
    }
    case "request.step_advanced": {
      const request = notification.request;
      return [
        jobs.refresh(request),
        ...jobs.cards(
          request,
          [...pendingApprovers(request), ...channels(request.policyId, "approval")],
          request.currentStep,
        ),
      ];
    }
    case "request.escalated": {
      const { request, entry } = notification;
      return [
        jobs.refresh(request),
        ...jobs.cards(request, pendingApprovers(request), request.currentStep),
        jobs.requestNotice(request, "escalated", `-${entry.step}`),
      ];
    }
    case "request.reminder":
      return jobs.reminders(notification.request, notification.step);
    case "request.break_glass": {
      const request = notification.request;
      return jobs.cards(request, [...reviewers(request), ...channels(request.policyId, "security", "approval")], "bg");
    }
    case "request.reviewed":
    case "request.approval_recorded":
      return [jobs.refresh(notification.request)];
    case "request.decided": {
      const request = notification.request;
      // Extensions speak through grant.extended; a cancel was the requester's own doing.
      if (request.kind === "extension" && request.status === "approved") return [jobs.refresh(request)];
      const notice =
        request.status === "approved"
          ? request.autoApprovalReason
            ? "auto_approved"
            : "approved"
          : request.status === "cancelled" || request.status === "pending"
            ? undefined
            : request.status;
      return notice ? [jobs.refresh(request), jobs.requestNotice(request, notice)] : [jobs.refresh(request)];
    }
    case "action.finished":
      return [
        jobs.refresh(notification.request, "action"),
        jobs.requestNotice(notification.request, "action_finished"),
      ];
    case "grant.activated":
    case "grant.extended": {
      const grant = notification.grant;
      const at = grant.expiresAt.getTime();
      const warnAt = expiryWarningAt(grant);
      return [
        ...(notification.type === "grant.extended" ? [jobs.refreshGrant(grant.id, `v${grant.version}`)] : []),
        jobs.grantNotice(grant.id, notification.type === "grant.activated" ? "granted" : "extended", `-${at}`),
        ...(warnAt
          ? [
              jobs.grantNotice(grant.id, "expiring", `-${at}`, {
                expiresAt: grant.expiresAt.toISOString(),
                runAt: warnAt,
              }),
            ]
          : []),
      ];
    }
    case "grant.revoked":
      return [
        jobs.refreshGrant(notification.grant.id, `v${notification.grant.version}`),
        jobs.grantNotice(notification.grant.id, "revoked"),
      ];
    case "incident.offered":
      return [
        {
          id: `${platform}-offer-${notification.offerId}`,
          job: { kind: "incident_offer", platform, offerId: notification.offerId },
        },
      ];
    case "alert":
      return notification.grantId
        ? [jobs.grantNotice(notification.grantId, "failed"), jobs.refreshGrant(notification.grantId, "failed")]
        : [];
  }
}

export function planChatJobs(
  notification: Notification,
  platforms: readonly ChatPlatform[],
  channelOf: ChannelOf,
): PlannedJob[] {
  // BullMQ refuses ':' in job ids; Slack and Teams channel ids may hold one.
  return platforms
    .flatMap((platform) => planFor(notification, platform, channelOf))
    .map((planned) => ({ ...planned, id: planned.id.replace(/[^A-Za-z0-9._@-]/g, "_") }));
}
