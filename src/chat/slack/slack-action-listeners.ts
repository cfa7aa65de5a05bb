import type { App } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { type ButtonValue, parseButtonValue } from "../core/action-payload.js";
import { durationText, personName, resourceLabel, shortId } from "../core/card-text.js";
import { performCardAction } from "../core/chat-interactions.js";
import { maxTotalFor } from "../core/overview.js";
import { extensionChoices } from "../core/request-form.js";
import { ACTION_IDS } from "./card-blocks.js";
import { slackActor } from "./slack-actor.js";
import type { SlackListenerDeps } from "./slack-listener-deps.js";
import { denyModal, extendModal } from "./slack-modals.js";
import { type BlockAction, BlockActionSchema, type CardOrigin } from "./slack-payloads.js";
import { guarded, redrawOrigin, tellClicker } from "./slack-replies.js";

/**
 * Button clicks. Each is acknowledged at once; then the clicker (the payload's verified user id,
 * never the button value) is mapped to an identity and the core decides. Deny and Extend first
 * ask for a reason / a duration in a small modal.
 */

const UNKNOWN_BUTTON =
  "Sesame cannot act on this button (it is not one Sesame made, or it comes from an older version). Use /request-access list to see where things stand.";

function originOf(payload: BlockAction, value: string): CardOrigin {
  if (payload.container?.type === "view") return { value, home: true };
  const channel = payload.container?.channel_id ?? payload.channel?.id;
  const ts = payload.container?.message_ts ?? payload.message?.ts;
  return { value, ...(channel ? { channel } : {}), ...(ts ? { ts } : {}) };
}

async function openDeny(
  deps: SlackListenerDeps,
  client: WebClient,
  payload: BlockAction,
  origin: CardOrigin,
  action: Extract<ButtonValue, { kind: "deny" }>,
): Promise<void> {
  const request = await deps.context.deps.store.getRequest(action.requestId);
  const summary = request
    ? `Deny ${personName(deps.context.deps.policy(), request.requesterId)}'s request for ${request.resourceId} (${durationText(request.durationSeconds)}), request ${shortId(request.id)}?`
    : "Deny this request?";
  await client.views.open({ trigger_id: payload.trigger_id, view: denyModal(origin, summary) });
}

async function openExtend(
  deps: SlackListenerDeps,
  client: WebClient,
  payload: BlockAction,
  origin: CardOrigin,
  actorId: string,
  action: Extract<ButtonValue, { kind: "extend" }>,
): Promise<void> {
  const grant = await deps.context.deps.store.getGrant(action.grantId);
  if (!grant || grant.subjectId !== actorId || grant.status !== "active") {
    return tellClicker(
      client,
      payload.user.id,
      origin,
      "Only the holder of an active grant can extend it; this one is not (or no longer) yours to extend.",
    );
  }
  // The button carries the grant id only; the choices come from the policy as it stands now.
  const durations = extensionChoices(grant, await maxTotalFor(deps.context.deps, grant));
  if (durations.length === 0)
    return tellClicker(
      client,
      payload.user.id,
      origin,
      "This grant cannot be extended any further: it has reached the policy's maximum total time.",
    );
  const summary = `Extend ${resourceLabel(deps.context.deps.policy(), grant.resourceId)} (grant ${shortId(grant.id)}).`;
  await client.views.open({ trigger_id: payload.trigger_id, view: extendModal(origin, summary, durations) });
}

async function handleClick(
  deps: SlackListenerDeps,
  client: WebClient,
  payload: BlockAction,
  workspace: string | undefined,
): Promise<void> {
  const clicked = payload.actions[0]!;
  const userId = payload.user.id;
  const action = parseButtonValue(clicked.value);
  const origin = originOf(payload, clicked.value ?? "");
  if (!action || ACTION_IDS[action.kind] !== clicked.action_id)
    return tellClicker(client, userId, origin, UNKNOWN_BUTTON);
  const actor = await slackActor(deps.context, client, userId, workspace);
  if (actor.identityId === null) return tellClicker(client, userId, origin, actor.message);
  if (action.kind === "deny") return openDeny(deps, client, payload, origin, action);
  if (action.kind === "extend") return openExtend(deps, client, payload, origin, actor.identityId, action);
  const outcome = await performCardAction(deps.context.deps, actor.identityId, action);
  await tellClicker(client, userId, origin, outcome.message);
  await redrawOrigin(deps, client, userId, actor.identityId, origin, action, outcome);
}

export function registerActions(app: App, deps: SlackListenerDeps): void {
  app.action({ type: "block_actions", action_id: /^sesame_/ }, async ({ ack, body, client, context }) => {
    await ack();
    const payload = BlockActionSchema.safeParse(body);
    if (!payload.success) {
      deps.context.logger.warn(
        { issues: payload.error.issues.length },
        "Slack block_actions payload with an unexpected shape ignored",
      );
      return;
    }
    const channel = payload.data.container?.channel_id ?? payload.data.channel?.id;
    await guarded(
      deps,
      client,
      payload.data.user.id,
      channel ? { channel } : undefined,
      () => handleClick(deps, client, payload.data, deps.workspaceOf(context)),
      context.sesameRetryable === true,
    );
  });
}
