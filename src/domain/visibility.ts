import type { RequestRow } from "./access-request.js";
import type { GrantRow } from "./grant.js";

/**
 * Who may see a request or a grant and who may act on one: the one rule every channel (REST API,
 * Slack, Teams, CLI) and every use case asks, so that no channel shows more than another.
 */

/** The person is the requester or an approver of any step (including on-call people added later). */
export function isNamedBy(request: Pick<RequestRow, "requesterId" | "snapshot">, personId: string): boolean {
  return request.requesterId === personId || request.snapshot.steps.some((step) => step.approverIds.includes(personId));
}

/** Everyone `isNamedBy` the request, once each: who may see it besides admins. */
export function viewersOf(request: Pick<RequestRow, "requesterId" | "snapshot">): string[] {
  return [...new Set([request.requesterId, ...request.snapshot.steps.flatMap((step) => step.approverIds)])].sort();
}

/** Everyone the request waits for (`awaitsDecisionFrom` holds for each). */
export function awaitedDecidersOf(request: Pick<RequestRow, "status" | "snapshot" | "currentStep">): string[] {
  return request.status === "pending" ? [...(request.snapshot.steps[request.currentStep]?.approverIds ?? [])] : [];
}

/** Requesters, approvers and admins see a request; anyone else is told it does not exist. */
export function canSeeRequest(
  request: Pick<RequestRow, "requesterId" | "snapshot">,
  personId: string,
  isAdmin: boolean,
): boolean {
  return isAdmin || isNamedBy(request, personId);
}

/** The request waits for this person: an approver of the step it is at. */
export function awaitsDecisionFrom(
  request: Pick<RequestRow, "status" | "snapshot" | "currentStep">,
  personId: string,
): boolean {
  return (
    request.status === "pending" && (request.snapshot.steps[request.currentStep]?.approverIds ?? []).includes(personId)
  );
}

/** Break-glass access is reviewed by the policy's approvers or an admin, never by whoever broke the glass. */
export function canReviewBreakGlass(
  request: Pick<RequestRow, "requesterId" | "snapshot">,
  personId: string,
  isAdmin: boolean,
): boolean {
  if (personId === request.requesterId) return false;
  return isAdmin || request.snapshot.steps.some((step) => step.approverIds.includes(personId));
}

/** A grant is seen by its holder and by admins. */
export function canSeeGrant(grant: Pick<GrantRow, "subjectId">, personId: string, isAdmin: boolean): boolean {
  return isAdmin || grant.subjectId === personId;
}
