import { randomBytes } from "node:crypto";
import { slackSignature } from "../../../src/chat/slack/slack-signature.js";

/** Signed requests to Sesame's /slack/events, shaped like Slack's (docs.slack.dev payload references). */

export const SIGNING_SECRET = "8f742231b10e8888abcd99a1b2c3d4e5";

export interface SlackReply {
  status: number;
  text: string;
  json: any;
}

export async function postSigned(
  baseUrl: string,
  body: string,
  contentType: string,
  options: { timestamp?: number; secret?: string; signature?: string } = {},
): Promise<SlackReply> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = options.signature ?? slackSignature(options.secret ?? SIGNING_SECRET, timestamp, body);
  const response = await fetch(`${baseUrl}/slack/events`, {
    method: "POST",
    headers: { "content-type": contentType, "x-slack-request-timestamp": timestamp, "x-slack-signature": signature },
    body,
  });
  const text = await response.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const trigger = () => `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(16).toString("hex")}`;

export function slashCommandBody(userId: string, text: string, responseUrl: string, teamId = "T0SESAME"): string {
  return form({
    token: "deprecated-verification-token",
    team_id: teamId,
    team_domain: "sesame-test",
    channel_id: "C0GENERAL",
    channel_name: "general",
    user_id: userId,
    user_name: userId.toLowerCase(),
    command: "/request-access",
    text,
    api_app_id: "A0SESAME",
    response_url: responseUrl,
    trigger_id: trigger(),
  });
}

export function interactionBody(payload: Record<string, unknown>): string {
  return form({ payload: JSON.stringify(payload) });
}

export function blockActionPayload(
  userId: string,
  actionId: string,
  value: string,
  where: { channel: string; ts: string } | "home",
): Record<string, unknown> {
  const container =
    where === "home"
      ? { type: "view", view_id: "V0HOME" }
      : { type: "message", message_ts: where.ts, channel_id: where.channel, is_ephemeral: false };
  return {
    type: "block_actions",
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: "T0SESAME" },
    api_app_id: "A0SESAME",
    token: "deprecated-verification-token",
    container,
    trigger_id: trigger(),
    team: { id: "T0SESAME", domain: "sesame-test" },
    enterprise: null,
    is_enterprise_install: false,
    ...(where === "home"
      ? { view: { id: "V0HOME", type: "home" } }
      : {
          channel: { id: where.channel, name: "directmessage" },
          message: { type: "message", ts: where.ts, text: "card" },
        }),
    response_url: "https://hooks.slack.com/actions/T0SESAME/1/unused",
    actions: [
      {
        action_id: actionId,
        block_id: "b1",
        text: { type: "plain_text", text: "Approve" },
        value,
        type: "button",
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
}

export function viewSubmissionPayload(
  userId: string,
  callbackId: string,
  values: Record<string, Record<string, unknown>>,
  privateMetadata = "",
): Record<string, unknown> {
  return {
    type: "view_submission",
    team: { id: "T0SESAME", domain: "sesame-test" },
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: "T0SESAME" },
    api_app_id: "A0SESAME",
    token: "deprecated-verification-token",
    trigger_id: trigger(),
    view: {
      id: `V${randomBytes(5).toString("hex").toUpperCase()}`,
      team_id: "T0SESAME",
      type: "modal",
      callback_id: callbackId,
      private_metadata: privateMetadata,
      blocks: [],
      state: { values },
      hash: "1.abc",
      app_id: "A0SESAME",
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export const selected = (value: string) => ({
  value: { type: "static_select", selected_option: { text: { type: "plain_text", text: value }, value } },
});
export const typed = (value: string) => ({ value: { type: "plain_text_input", value } });

export function appHomeOpenedBody(userId: string): string {
  return JSON.stringify({
    token: "deprecated-verification-token",
    team_id: "T0SESAME",
    api_app_id: "A0SESAME",
    event: {
      type: "app_home_opened",
      user: userId,
      channel: "D0HOME",
      tab: "home",
      event_ts: String(Date.now() / 1000),
    },
    type: "event_callback",
    event_id: `Ev${randomBytes(5).toString("hex").toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      { enterprise_id: null, team_id: "T0SESAME", user_id: "U0SESAMEBOT", is_bot: true, is_enterprise_install: false },
    ],
  });
}
