import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { parseButtonValue } from "../core/action-payload.js";
import { truncate } from "../core/card-model.js";
import { performCardAction } from "../core/chat-interactions.js";
import { type FormField, submitRequestForm } from "../core/request-form.js";
import { slackActor } from "./slack-actor.js";
import type { SlackListenerDeps } from "./slack-listener-deps.js";
import { CALLBACK_IDS, FORM_BLOCKS } from "./slack-modals.js";
import { inputValue, parseOrigin, type ViewSubmission, ViewSubmissionSchema } from "./slack-payloads.js";
import { guarded, redrawOrigin, tellClicker } from "./slack-replies.js";

/**
 * Modal submissions. The request form is checked before it is acknowledged, so a refusal shows
 * on the field it concerns; Deny and Extend close at once and report back like a click.
 */

const ERROR_TEXT_MAX = 1_000;

async function submitForm(
  deps: SlackListenerDeps,
  client: WebClient,
  submission: ViewSubmission,
  workspace: string | undefined,
): Promise<Record<string, string> | undefined> {
  const actor = await slackActor(deps.context, client, submission.user.id, workspace);
  if (actor.identityId === null) return { [FORM_BLOCKS.resource]: truncate(actor.message, ERROR_TEXT_MAX) };
  const field = (name: FormField) => inputValue(submission.view, FORM_BLOCKS[name]);
  const result = await submitRequestForm(deps.context.deps, actor.identityId, {
    ...(field("resource") ? { resource: field("resource") } : {}),
    ...(field("duration") ? { duration: field("duration") } : {}),
    ...(field("reason") ? { reason: field("reason") } : {}),
    ...(field("ticket") ? { ticket: field("ticket") } : {}),
    ...(field("action") ? { action: field("action") } : {}),
  });
  if (result.ok) return undefined;
  return Object.fromEntries(
    Object.entries(result.errors).map(([name, message]) => [
      FORM_BLOCKS[name as FormField],
      truncate(message, ERROR_TEXT_MAX),
    ]),
  );
}

/** Deny (with its reason) or Extend (with its duration), decided for the verified submitter. */
async function decideFromModal(
  deps: SlackListenerDeps,
  client: WebClient,
  submission: ViewSubmission,
  workspace: string | undefined,
): Promise<void> {
  const userId = submission.user.id;
  const origin = parseOrigin(submission.view.private_metadata);
  const action = origin ? parseButtonValue(origin.value) : undefined;
  const expected = submission.view.callback_id === CALLBACK_IDS.deny ? "deny" : "extend";
  if (!origin || !action || action.kind !== expected)
    return tellClicker(client, userId, origin, "Sesame could not read this form; open it again from the card.");
  const actor = await slackActor(deps.context, client, userId, workspace);
  if (actor.identityId === null) return tellClicker(client, userId, origin, actor.message);
  const input =
    expected === "deny"
      ? { reason: inputValue(submission.view, "reason") ?? "" }
      : { duration: inputValue(submission.view, "duration") ?? "" };
  const outcome = await performCardAction(deps.context.deps, actor.identityId, action, input);
  await tellClicker(client, userId, origin, outcome.message);
  await redrawOrigin(deps, client, userId, actor.identityId, origin, action, outcome);
}

export function registerViews(app: App, deps: SlackListenerDeps): void {
  app.view(CALLBACK_IDS.request, async ({ ack, body, client, context }) => {
    const parsed = ViewSubmissionSchema.safeParse(body);
    if (!parsed.success) {
      await ack({
        response_action: "errors",
        errors: { [FORM_BLOCKS.resource]: "Sesame could not read this form; close it and run /request-access again." },
      });
      return;
    }
    const errors = await submitForm(deps, client, parsed.data, deps.workspaceOf(context));
    await ack(errors ? { response_action: "errors", errors } : undefined);
  });
  for (const callbackId of [CALLBACK_IDS.deny, CALLBACK_IDS.extend]) {
    app.view(callbackId, async ({ ack, body, client, context }) => {
      await ack();
      const parsed = ViewSubmissionSchema.safeParse(body);
      if (!parsed.success) {
        deps.context.logger.warn({ callbackId }, "Slack view_submission with an unexpected shape ignored");
        return;
      }
      const channel = parseOrigin(parsed.data.view.private_metadata)?.channel;
      await guarded(
        deps,
        client,
        parsed.data.user.id,
        channel ? { channel } : undefined,
        () => decideFromModal(deps, client, parsed.data, deps.workspaceOf(context)),
        context.sesameRetryable === true,
      );
    });
  }
}
