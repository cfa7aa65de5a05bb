import type { ChatContext } from "../core/chat-context.js";
import { type IntakeEntry, tooFast } from "../core/chat-intake.js";
import type { TeamsTransport, TeamsTurn } from "./bot-framework-transport.js";
import { ActivitySchema, type TeamsActivity, tenantOf } from "./teams-activity.js";
import type { ConversationReference } from "./teams-conversations.js";

/**
 * Durable intake for Teams. A verified activity is stored under its activity id before any work:
 * a replay (same id) is answered and changes nothing. Teams expects the answer in the same HTTP exchange (an invoke's new card, a
 * command's reply), so the work runs right after storing, a few at a time per process, with
 * retries; a message whose process died midway is worked later from the queue, answered with a
 * proactive message in its conversation.
 */

const ALREADY = "This action was already received; nothing more was done.";
const FAILED =
  'Sesame could not finish what you just did (it is busy or a service it needs is down), and it changed nothing it could not finish. Type "list" to see where things stand, then try again; if it keeps failing, tell a Sesame admin.';

export interface TeamsBotHandler {
  handle(turn: TeamsTurn, options?: { retryable?: boolean }): Promise<void>;
}

/** Where to answer a stored activity: the conversation it came from. */
function replyReference(activity: TeamsActivity): ConversationReference {
  const tenantId = tenantOf(activity);
  return {
    serviceUrl: activity.serviceUrl,
    channelId: activity.channelId,
    conversation: { ...activity.conversation, ...(tenantId ? { tenantId } : {}) },
    user: { id: activity.from.id, ...(activity.from.aadObjectId ? { aadObjectId: activity.from.aadObjectId } : {}) },
    bot: { id: activity.recipient.id, ...(activity.recipient.name ? { name: activity.recipient.name } : {}) },
    ...(activity.id ? { activityId: activity.id } : {}),
  };
}

export function createTeamsIntake(context: ChatContext, transport: TeamsTransport, bot: TeamsBotHandler) {
  const { intake } = context;
  intake?.register("teams", {
    async process(stored, attempt) {
      const activity = ActivitySchema.parse(stored.payload);
      await transport.continue(replyReference(activity), (turn) =>
        bot.handle({ ...turn, activity: stored.payload }, { retryable: !attempt.final }),
      );
    },
    async tellFailed(stored) {
      const activity = ActivitySchema.parse(stored.payload);
      await transport.continue(replyReference(activity), async (turn) => void (await turn.send({ text: FAILED })));
    },
  });

  return async function handle(turn: TeamsTurn): Promise<void> {
    const parsed = ActivitySchema.safeParse(turn.activity);
    const activity = parsed.success ? parsed.data : undefined;
    if (!intake || !activity?.id || (activity.type !== "message" && activity.type !== "invoke"))
      return bot.handle(turn);
    const limit = context.rateLimit;
    const verdict = limit ? await limit.hit(`teams:${activity.from.aadObjectId ?? activity.from.id}`) : undefined;
    if (limit && verdict && !verdict.ok) {
      const text = tooFast(limit, verdict);
      context.logger.warn({ type: activity.type }, "a Teams user went over SESAME_RATE_LIMIT; refused");
      if (activity.type === "invoke")
        return turn.respond(200, { statusCode: 200, type: "application/vnd.microsoft.activity.message", value: text });
      return void (await turn.send({ text }));
    }
    const entry: IntakeEntry = {
      platform: "teams",
      kind: "activity",
      key: activity.id,
      payload: turn.activity as Record<string, unknown>,
    };
    // An invoke's answer is the HTTP response itself: a row left by a dead process is not worked later.
    const accepted = await intake.acceptAndRun(entry, (attempt) => bot.handle(turn, { retryable: !attempt.final }), {
      recoverable: activity.type === "message",
    });
    if (!accepted.fresh && activity.type === "invoke")
      await turn.respond(200, { statusCode: 200, type: "application/vnd.microsoft.activity.message", value: ALREADY });
  };
}
