import { describeClass } from "../../domain/actions/action-evaluation.js";
import { tryParseDuration } from "../../domain/duration.js";
import { isAppError } from "../../domain/errors.js";
import type { ServiceDeps } from "../../services/deps.js";
import { submitAction } from "../../services/submit-action.js";
import { submitRequest } from "../../services/submit-request.js";
import type { Card } from "./card-model.js";
import { durationText, formatTime, shortId } from "./card-text.js";
import { performCardAction } from "./chat-interactions.js";
import { overviewFor } from "./overview.js";
import { durationChoices, requestFormModel } from "./request-form.js";

/**
 * The text commands, the same in Slack (`/request-access …`) and Teams (a message to the bot):
 * `<resource> <duration> <reason…>`, `help`, `list`, `cancel <id>`, `extend <id> <duration>`,
 * `relinquish <id>`, and no text at all to open the form.
 */

export type CommandReply = { kind: "open_form" } | { kind: "reply"; text: string; cards: Card[] };

const reply = (text: string, cards: Card[] = []): CommandReply => ({ kind: "reply", text, cards });

export function helpText(command: string): string {
  return [
    `${command}: open the request form.`,
    `${command} <resource> <duration> <reason…>: request directly, e.g. ${command} prod-db-readonly 1h investigating INC-42. Add ticket:OPS-123 anywhere for a ticket.`,
    `${command} list: your pending requests, your active grants and what waits for your approval.`,
    `${command} cancel <id>: withdraw a pending request.`,
    `${command} extend <id> <duration>: ask for more time on an active grant.`,
    `${command} relinquish <id>: give access back now.`,
    `${command} break-glass <resource> <duration> <reason…>: emergency access at once, where the policy allows it; on-call is paged and it is reviewed afterwards.`,
    `${command} run <resource> <action>: ask to run that one action once (a SQL statement, a Kubernetes operation such as rollout restart deployment/web, or a runner command, as the resource allows); end with a line "reason: …" to give a reason.`,
    "Ids are the 8 characters shown in list (full ids work too).",
  ].join("\n");
}

async function requestIdFor(
  deps: ServiceDeps,
  actorId: string,
  token: string | undefined,
): Promise<string | undefined> {
  if (!token) return undefined;
  const mine = await deps.store.listRequests({ requesterId: actorId, status: ["pending"], limit: 200 });
  return mine.find((r) => r.id === token || shortId(r.id) === token.toLowerCase())?.id;
}

async function grantIdFor(deps: ServiceDeps, actorId: string, token: string | undefined): Promise<string | undefined> {
  if (!token) return undefined;
  const mine = await deps.store.listGrants({ subjectId: actorId, status: ["scheduled", "active"], limit: 200 });
  return mine.find((g) => g.id === token || shortId(g.id) === token.toLowerCase())?.id;
}

async function list(deps: ServiceDeps, actorId: string): Promise<CommandReply> {
  const overview = await overviewFor(deps, actorId);
  const cards = [...overview.myRequests, ...overview.myGrants, ...overview.awaitingMe, ...overview.toReview];
  const text =
    cards.length === 0
      ? "You have no pending requests, no active grants, and nothing waits for your approval."
      : `${overview.myRequests.length} pending request(s), ${overview.myGrants.length} grant(s), ${overview.awaitingMe.length} waiting for your approval${overview.toReview.length > 0 ? `, ${overview.toReview.length} break-glass grant(s) to review` : ""}.`;
  return reply(text, cards);
}

async function requestDirectly(
  deps: ServiceDeps,
  actorId: string,
  words: string[],
  command: string,
  breakGlass = false,
): Promise<CommandReply> {
  const ticketWord = words.find((w) => /^ticket:/i.test(w));
  const rest = words.filter((w) => w !== ticketWord);
  const [resourceId, durationWord, ...reasonWords] = rest;
  const allowed = requestFormModel(deps.policy(), actorId).resources.map((r) => r.id);
  if (!resourceId || !durationWord) {
    return reply(
      `Say what and for how long: ${command} <resource> <duration> <reason…>. You may request: ${allowed.join(", ") || "nothing yet (ask an admin)"}.`,
    );
  }
  const seconds = tryParseDuration(durationWord);
  if (seconds === undefined) {
    const policy = deps.policy().matchPolicy(actorId, resourceId);
    const choices = policy
      ? ` For ${resourceId}: up to ${policy.duration.max}, e.g. ${durationChoices(tryParseDuration(policy.duration.max)!).slice(0, 5).join(", ")}.`
      : "";
    return reply(`"${durationWord}" is not a duration. Use forms like 30m, 1h or 2d.${choices} Nothing was requested.`);
  }
  const reason = reasonWords.join(" ").trim();
  const ticket = ticketWord?.slice("ticket:".length).trim();
  const request = await submitRequest(deps, {
    requesterId: actorId,
    resourceId,
    duration: seconds,
    ...(reason ? { reason } : {}),
    ...(ticket ? { ticket } : {}),
    ...(breakGlass ? { breakGlass } : {}),
  });
  if (request.breakGlass)
    return reply(
      `Break-glass: ${resourceId} is being granted now for ${durationText(request.durationSeconds)}. On-call and security are told, and an approver will review it. Request ${shortId(request.id)}.`,
    );
  if (request.status === "approved")
    return reply(
      `Auto-approved (${request.autoApprovalReason ?? "policy rule"}): ${resourceId} for ${durationText(request.durationSeconds)}. Request ${shortId(request.id)}; you will get a message when the access is ready.`,
    );
  return reply(
    `Requested ${resourceId} for ${durationText(request.durationSeconds)}. Request ${shortId(request.id)} waits for approval until ${formatTime(request.pendingUntil)}.`,
  );
}

/**
 * `run <resource> <action…>`: the action is the rest of the raw text, exactly as typed
 * (line breaks kept: the approval is bound to its sha256); a last line `reason: …` is the reason.
 */
async function runDirectly(deps: ServiceDeps, actorId: string, text: string, command: string): Promise<CommandReply> {
  const afterVerb = text.trimStart().slice(3).trimStart();
  const resourceId = afterVerb.split(/\s/, 1)[0] ?? "";
  let statement = afterVerb.slice(resourceId.length).trim();
  let reason: string | undefined;
  const lines = statement.split("\n");
  const last = lines[lines.length - 1]?.trim() ?? "";
  if (lines.length > 1 && /^reason:/i.test(last)) {
    reason = last.slice("reason:".length).trim();
    statement = lines.slice(0, -1).join("\n").trim();
  }
  if (!resourceId || !statement)
    return reply(`Say where and what: ${command} run <resource> <action>, then a line "reason: …".`);
  const request = await submitAction(deps, {
    requesterId: actorId,
    resourceId,
    action: statement,
    ...(reason ? { reason } : {}),
  });
  const action = request.snapshot.action!;
  const id = `Request ${shortId(request.id)}`;
  if (request.status === "approved") {
    const run = await deps.store.getActionRun(request.id);
    return reply(
      `Auto-approved (${request.autoApprovalReason ?? "policy rule"}) and run on ${resourceId}: ${run?.status ?? "queued"}. ${id}; the result is at GET /api/v1/requests/${request.id}.`,
    );
  }
  const what = action.kind === "sql" ? `one ${action.class} statement` : describeClass(action.class);
  return reply(
    `Asked to run ${what} on ${resourceId} (sha256 ${action.sha256.slice(0, 12)}…). ${id} waits for approval until ${formatTime(request.pendingUntil)}.`,
  );
}

async function dispatch(deps: ServiceDeps, actorId: string, words: string[], command: string): Promise<CommandReply> {
  const [verb, ...args] = words;
  switch (verb?.toLowerCase()) {
    case undefined:
      return { kind: "open_form" };
    case "help":
      return reply(helpText(command));
    case "list":
      return list(deps, actorId);
    case "cancel": {
      const requestId = await requestIdFor(deps, actorId, args[0]);
      if (!requestId)
        return reply(`You have no pending request "${args[0] ?? ""}". Use ${command} list to see your requests.`);
      return reply((await performCardAction(deps, actorId, { kind: "cancel", requestId })).message);
    }
    case "relinquish": {
      const grantId = await grantIdFor(deps, actorId, args[0]);
      if (!grantId)
        return reply(`You hold no active grant "${args[0] ?? ""}". Use ${command} list to see your grants.`);
      return reply((await performCardAction(deps, actorId, { kind: "relinquish", grantId })).message);
    }
    case "extend": {
      const grantId = await grantIdFor(deps, actorId, args[0]);
      if (!grantId)
        return reply(`You hold no active grant "${args[0] ?? ""}". Use ${command} list to see your grants.`);
      if (!args[1] || tryParseDuration(args[1]) === undefined)
        return reply(`Say how much more time, e.g. ${command} extend ${args[0]} 30m.`);
      return reply(
        (await performCardAction(deps, actorId, { kind: "extend", grantId }, { duration: args[1] })).message,
      );
    }
    case "break-glass":
      return requestDirectly(deps, actorId, args, `${command} break-glass`, true);
    default:
      return requestDirectly(deps, actorId, words, command);
  }
}

/** Runs one command for a verified identity. Refusals are replies that name the problem; nothing is created. */
export async function runCommand(
  deps: ServiceDeps,
  actorId: string,
  text: string,
  command = "/request-access",
): Promise<CommandReply> {
  const words = text.trim().split(/\s+/).filter(Boolean);
  try {
    if (words[0]?.toLowerCase() === "run") return await runDirectly(deps, actorId, text, command);
    return await dispatch(deps, actorId, words, command);
  } catch (error) {
    if (!isAppError(error) || error.code === "internal") throw error;
    return reply(`${error.userMessage} Nothing was requested.`);
  }
}
