import type { PolicyBook } from "../../domain/policy/policy-book.js";
import type { Logger, Notification, Notifier } from "../../services/ports.js";
import type { ChatPlatform } from "./chat-adapter.js";
import { channelFromPolicy, type PlannedJob, planChatJobs } from "./chat-deliveries.js";

/** The core's Notifier when chat platforms are configured: plans chat jobs and queues them. */
export function createChatNotifier(options: {
  platforms: readonly ChatPlatform[];
  policy: () => PolicyBook;
  enqueue: (jobs: PlannedJob[]) => Promise<void>;
  logger: Logger;
}): Notifier {
  return {
    async publish(notification: Notification) {
      const ids =
        "request" in notification
          ? { requestId: notification.request.id }
          : "grant" in notification
            ? { grantId: notification.grant.id }
            : "offerId" in notification
              ? { offerId: notification.offerId }
              : {};
      options.logger.info({ notification: notification.type, ...ids }, "notification");
      if (notification.type === "alert") options.logger.error({ alert: notification.message, ...ids }, "alert");
      await options.enqueue(planChatJobs(notification, options.platforms, channelFromPolicy(options.policy())));
    },
  };
}
