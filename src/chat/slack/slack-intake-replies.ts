import type { WebClient } from "@slack/web-api";
import type { Logger } from "../../services/ports.js";
import type { StoredIntake } from "../core/chat-intake.js";
import { mrkdwn } from "./block-kit-limits.js";
import { errorText } from "./slack-errors.js";
import { userOf } from "./slack-intake.js";

/** Answers for stored Slack actions: through the payload's response_url, else as a DM from the bot. */

const FAILED =
  "Sesame could not finish what you just did (it is busy or a service it needs is down), and it changed nothing it could not finish. Check /request-access list, then try again; if it keeps failing, tell a Sesame admin.";

export async function tellViaResponseUrl(stored: StoredIntake, text: string): Promise<void> {
  if (!stored.replyTo) throw new Error("this Slack action has no response_url");
  const response = await fetch(stored.replyTo, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ response_type: "ephemeral", replace_original: false, text: mrkdwn(text) }),
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`response_url answered ${response.status}`);
}

export async function tellFailed(stored: StoredIntake, client: WebClient | undefined, logger: Logger): Promise<void> {
  if (stored.replyTo) {
    try {
      return await tellViaResponseUrl(stored, FAILED);
    } catch (error) {
      logger.warn({ error: errorText(error) }, "could not answer through response_url; sending a DM instead");
    }
  }
  const user = userOf(stored);
  if (!user || !client) throw new Error("nobody to tell: the stored Slack action names no user");
  await client.chat.postMessage({ channel: user, text: mrkdwn(FAILED) });
}
