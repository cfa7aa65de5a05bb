import { helpText, runCommand } from "../core/chat-commands.js";
import type { ChatContext } from "../core/chat-context.js";
import { type ChatUser, resolveChatUser } from "../core/chat-identity.js";
import { RetryLater } from "../core/chat-intake.js";
import { requestFormModel } from "../core/request-form.js";
import { isTransientFailure } from "../transient-failure.js";
import { escapeMarkdown } from "./adaptive-card.js";
import type { OutgoingMessage, TeamsTurn } from "./bot-framework-transport.js";
import { type CardData, parseCardData } from "./card-data.js";
import { requestFormCard } from "./request-form-card.js";
import { ActivitySchema, CardInvokeSchema, commandText, isPersonal, type TeamsActivity } from "./teams-activity.js";
import { answerCardData, type CardAnswer, cardFor } from "./teams-card-actions.js";
import { rememberConversation } from "./teams-conversations.js";

/**
 * One Teams activity, start to end: remember how to reach the sender, find who they are (from the
 * verified `from.aadObjectId`, never from card data), then run the command or the card action.
 */

export const COMMAND = "request-access";
const INVALID_CARD =
  "This card action is not valid (it was not sent by Sesame, or it was changed). Nothing was changed.";
const PERSONAL_ONLY = `Requests are made in a personal chat with me, so reasons stay private: open a chat with Sesame and type "help".`;

/** Sesame's sentences are plain text; Teams reads markdown, where one newline is no break. */
const say = (text: string): OutgoingMessage => ({ text: escapeMarkdown(text).replace(/\n/g, "\n\n") });

const verbOf = (data: CardData): string =>
  data.kind === "button" ? data.value.kind : data.kind === "refresh" ? "refresh" : "submit_request";

const invokeBody = (answer: CardAnswer) =>
  "card" in answer
    ? { statusCode: 200, type: "application/vnd.microsoft.card.adaptive", value: answer.card }
    : { statusCode: 200, type: "application/vnd.microsoft.activity.message", value: answer.message };
const invokeError = (statusCode: number, message: string) => ({
  statusCode,
  type: "application/vnd.microsoft.error",
  value: { code: statusCode === 400 ? "BadRequest" : "InternalServerError", message },
});

export function createTeamsBot(context: ChatContext): {
  handle(turn: TeamsTurn, options?: { retryable?: boolean }): Promise<void>;
} {
  const { store, deps, logger } = context;

  async function actorOf(activity: TeamsActivity, turn: TeamsTurn): Promise<ChatUser> {
    const aad = activity.from.aadObjectId;
    if (!aad)
      return {
        identityId: null,
        message:
          "Sesame could not read your Microsoft Entra account from this message. Message me from Microsoft Teams.",
      };
    return resolveChatUser(store, "teams", aad, () =>
      turn.memberEmail(activity.from.id).catch((error: unknown) => {
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          "could not read a Teams member's email",
        );
        return undefined;
      }),
    );
  }

  async function onInvoke(activity: TeamsActivity, turn: TeamsTurn): Promise<void> {
    if (activity.name !== "adaptiveCard/action") return turn.respond(501, {});
    const invoke = CardInvokeSchema.safeParse(activity.value);
    const data = invoke.success ? parseCardData(invoke.data.action.data) : undefined;
    // An automatic refresh only shows the card; it can never approve, deny or submit anything.
    if (
      !invoke.success ||
      !data ||
      verbOf(data) !== invoke.data.action.verb ||
      (invoke.data.trigger === "automatic" && data.kind !== "refresh")
    ) {
      logger.warn(
        { verb: invoke.success ? invoke.data.action.verb : undefined },
        "refused an invalid Teams card action",
      );
      return turn.respond(200, invokeError(400, INVALID_CARD));
    }
    const actor = await actorOf(activity, turn);
    await turn.respond(200, invokeBody(await answerCardData(context, actor, data)));
  }

  /** Action.Submit (clients without Universal Actions): a message whose `value` is the card data. */
  async function onSubmit(activity: TeamsActivity, turn: TeamsTurn): Promise<void> {
    const data = parseCardData(activity.value);
    if (!data || data.kind === "refresh") return void (await turn.send(say(INVALID_CARD)));
    const actor = await actorOf(activity, turn);
    const answer = await answerCardData(context, actor, data);
    if ("card" in answer && activity.replyToId) await turn.update(activity.replyToId, { cards: [answer.card] });
    else await turn.send("card" in answer ? { cards: [answer.card] } : say(answer.message));
  }

  async function onText(activity: TeamsActivity, turn: TeamsTurn): Promise<void> {
    if (!isPersonal(activity)) return void (await turn.send(say(PERSONAL_ONLY)));
    const actor = await actorOf(activity, turn);
    if (actor.identityId === null) return void (await turn.send(say(actor.message)));
    const text = commandText(activity).replace(/^\/?request-access\b/i, "");
    const result = await runCommand(deps, actor.identityId, text, COMMAND);
    if (result.kind === "open_form")
      return void (await turn.send({ cards: [requestFormCard(requestFormModel(deps.policy(), actor.identityId))] }));
    const cards = await Promise.all(result.cards.map((card) => cardFor(context, card, actor.identityId)));
    await turn.send({ ...say(result.text), cards });
  }

  /** Links the account on install, so approval cards can reach this person before they ever type. */
  async function welcome(activity: TeamsActivity, turn: TeamsTurn): Promise<void> {
    if (!isPersonal(activity)) return;
    await actorOf(activity, turn);
    await turn.send(
      say(
        `Hi, I am Sesame: I grant temporary access after approval. Type "${COMMAND}" to open the request form.\n${helpText(COMMAND)}`,
      ),
    );
  }

  async function route(activity: TeamsActivity, turn: TeamsTurn): Promise<void> {
    switch (activity.type) {
      case "invoke":
        return onInvoke(activity, turn);
      case "message":
        return activity.value !== undefined ? onSubmit(activity, turn) : onText(activity, turn);
      // Teams follows installationUpdate with the conversationUpdate that greets; link the account on both.
      case "installationUpdate":
        return activity.action === "add" && isPersonal(activity) ? void (await actorOf(activity, turn)) : undefined;
      case "conversationUpdate":
        return activity.membersAdded?.some((m) => m.id === activity.recipient.id) ? welcome(activity, turn) : undefined;
    }
  }

  return {
    async handle(turn, options = {}) {
      const parsed = ActivitySchema.safeParse(turn.activity);
      if (!parsed.success) {
        logger.warn(
          { issues: parsed.error.issues.slice(0, 3).map((i) => i.path.join(".")) },
          "ignored a Teams activity Sesame cannot read",
        );
        return;
      }
      const activity = parsed.data;
      try {
        await rememberConversation(store, activity);
        await route(activity, turn);
      } catch (error) {
        // A stored activity that failed before changing anything gets another attempt from the intake queue.
        if (options.retryable && isTransientFailure(error)) throw new RetryLater(error);
        logger.error(
          { err: error instanceof Error ? error.message : String(error), type: activity.type },
          "Teams activity failed",
        );
        const sorry =
          "Sesame hit an internal error and changed nothing it could not finish. Try again; if it persists, tell a Sesame admin.";
        if (activity.type === "invoke") await turn.respond(200, invokeError(500, sorry));
        else await turn.send(say(sorry)).catch(() => undefined);
      }
    },
  };
}
