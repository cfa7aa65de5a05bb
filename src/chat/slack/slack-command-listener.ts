import type { App, RespondFn } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { Card } from "../core/card-model.js";
import { runCommand } from "../core/chat-commands.js";
import { RetryLater } from "../core/chat-intake.js";
import { requestFormModel } from "../core/request-form.js";
import { isTransientFailure } from "../transient-failure.js";
import { LIMITS, mrkdwn } from "./block-kit-limits.js";
import { cardsBlocks } from "./card-blocks.js";
import { slackActor } from "./slack-actor.js";
import { errorText } from "./slack-errors.js";
import type { SlackListenerDeps } from "./slack-listener-deps.js";
import { requestModal } from "./slack-modals.js";
import { type SlashCommand, SlashCommandSchema } from "./slack-payloads.js";

/**
 * `/request-access`: no text opens the request form (the trigger id lives about three seconds, so
 * the modal opens right after the acknowledgement); any text is a command (`help`, `list`,
 * `cancel`, `extend`, `relinquish`, or `<resource> <duration> <reason…>`), answered ephemerally.
 */

export const COMMAND = "/request-access";

function ephemeral(text: string, cards: Card[] = []) {
  return {
    response_type: "ephemeral" as const,
    replace_original: false,
    text: mrkdwn(text),
    blocks: cardsBlocks(cards, LIMITS.messageBlocks, [
      { type: "section", text: { type: "mrkdwn", text: mrkdwn(text), verbatim: true } },
    ]),
  };
}

async function openForm(
  deps: SlackListenerDeps,
  client: WebClient,
  command: SlashCommand,
  identityId: string,
): Promise<void> {
  await client.views.open({
    trigger_id: command.trigger_id,
    view: requestModal(requestFormModel(deps.context.deps.policy(), identityId)),
  });
}

async function handle(
  deps: SlackListenerDeps,
  client: WebClient,
  respond: RespondFn,
  command: SlashCommand,
  workspace: string | undefined,
): Promise<void> {
  const actor = await slackActor(deps.context, client, command.user_id, workspace);
  if (actor.identityId === null) {
    await respond(ephemeral(actor.message));
    return;
  }
  // Slack escapes &, < and > in command text; the text a command acts on (an action's SQL) is what was typed.
  const text = command.text.trim().replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  const reply = text
    ? await runCommand(deps.context.deps, actor.identityId, text, COMMAND)
    : ({ kind: "open_form" } as const);
  if (reply.kind === "open_form") return openForm(deps, client, command, actor.identityId);
  await respond(ephemeral(reply.text, reply.cards));
}

export function registerCommand(app: App, deps: SlackListenerDeps): void {
  app.command(COMMAND, async ({ ack, command, client, respond, context }) => {
    const parsed = SlashCommandSchema.safeParse(command);
    if (!parsed.success) {
      await ack({
        response_type: "ephemeral",
        text: "Sesame could not read this command. Try again, or use /request-access help.",
      });
      return;
    }
    await ack();
    try {
      await handle(deps, client, respond, parsed.data, deps.workspaceOf(context));
    } catch (error) {
      // Stored commands are retried when nothing was applied (e.g. no database connection free in time).
      if (context.sesameRetryable === true && isTransientFailure(error)) throw new RetryLater(error);
      deps.context.logger.error({ error: errorText(error) }, "/request-access failed");
      await respond(
        ephemeral(
          "Sesame hit an internal problem and did nothing. Try again in a minute; if it keeps failing, tell a Sesame admin.",
        ),
      );
    }
  });
}
