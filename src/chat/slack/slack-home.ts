import type { App, types } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { ChatContext } from "../core/chat-context.js";
import { overviewFor } from "../core/overview.js";
import { LIMITS, mrkdwn, plain } from "./block-kit-limits.js";
import { type Block, cardsBlocks } from "./card-blocks.js";
import { slackActor } from "./slack-actor.js";
import type { SlackListenerDeps } from "./slack-listener-deps.js";
import { AppHomeOpenedSchema } from "./slack-payloads.js";

/** App Home: my pending requests, my active grants (Relinquish, Extend), and what waits for my approval (Approve, Deny). */

/** Four sections and the intro share App Home's 100 blocks. */
const SECTION_BUDGET = 24;

function section(title: string, empty: string, cards: Parameters<typeof cardsBlocks>[0]): Block[] {
  const lead: Block[] = [{ type: "header", text: plain(title, LIMITS.headerText) }];
  if (cards.length === 0) return [...lead, { type: "context", elements: [{ type: "plain_text", text: empty }] }];
  return cardsBlocks(cards, SECTION_BUDGET, lead);
}

async function homeView(
  context: ChatContext,
  identityId: string | null,
  unmappedMessage?: string,
): Promise<types.HomeView> {
  if (!identityId)
    return {
      type: "home",
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: mrkdwn(unmappedMessage ?? "Sesame does not know you yet.") } },
      ],
    };
  const overview = await overviewFor(context.deps, identityId);
  const blocks: Block[] = [
    {
      type: "section",
      text: { type: "mrkdwn", text: "Request access with `/request-access` (or `/request-access help`)." },
    },
    ...section("Your pending requests", "Nothing pending.", overview.myRequests),
    ...section("Your active grants", "No active grants.", overview.myGrants),
    ...section("Waiting for your approval", "Nothing waits for you.", overview.awaitingMe),
    ...(overview.toReview.length > 0 ? section("Break-glass access to review", "", overview.toReview) : []),
  ];
  return { type: "home", blocks: blocks.slice(0, LIMITS.viewBlocks) };
}

export async function publishHome(
  context: ChatContext,
  client: WebClient,
  userId: string,
  identityId: string | null,
  unmappedMessage?: string,
): Promise<void> {
  await client.views.publish({ user_id: userId, view: await homeView(context, identityId, unmappedMessage) });
}

export function registerHome(app: App, listener: SlackListenerDeps): void {
  app.event("app_home_opened", async ({ body, client, context: bolt }) => {
    const parsed = AppHomeOpenedSchema.safeParse(body);
    if (!parsed.success || (parsed.data.event.tab && parsed.data.event.tab !== "home")) return;
    const user = parsed.data.event.user;
    const actor = await slackActor(listener.context, client, user, listener.workspaceOf(bolt));
    await publishHome(
      listener.context,
      client,
      user,
      actor.identityId,
      actor.identityId === null ? actor.message : undefined,
    );
  });
}
