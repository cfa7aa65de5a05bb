import type { RequestRow } from "../../domain/access-request.js";
import type { PolicyBook } from "../../domain/policy/policy-book.js";
import { durationText, formatTime, personName, shortId } from "./card-text.js";

/**
 * What a remind step of the escalation ladder says to each approver still pending. Editing their
 * card notifies nobody, so this goes out as a message of its own (see ChatAdapter.remind).
 */
export function reminderText(book: PolicyBook, request: RequestRow): string {
  const what = `${request.resourceId} for ${durationText(request.durationSeconds)}`;
  return (
    `Reminder: ${personName(book, request.requesterId)} has been waiting since ${formatTime(request.createdAt)} ` +
    `for your decision on ${what} (request ${shortId(request.id)}). Approve or deny it on its card before ` +
    `${formatTime(request.pendingUntil)}, or find it with "request-access list".`
  );
}
