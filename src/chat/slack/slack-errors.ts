/** The `error` string of a Slack Web API refusal (`{ ok: false, error: "channel_not_found" }`), if that is what failed. */
export function slackErrorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const data = (error as { data?: { error?: unknown } }).data;
  return typeof data?.error === "string" ? data.error : undefined;
}

/** Refusals that no retry will fix: the message, channel or person is gone or out of reach. */
export const UNREACHABLE = new Set([
  "channel_not_found",
  "not_in_channel",
  "is_archived",
  "message_not_found",
  "cant_update_message",
  "user_not_found",
  "users_not_found",
  "account_inactive",
  "cannot_dm_bot",
]);

export const errorText = (error: unknown): string =>
  slackErrorCode(error) ?? (error instanceof Error ? error.message : String(error));
