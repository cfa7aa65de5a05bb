import type { RequestRow } from "./access-request.js";

/** One sentence saying how a finished request ended, for people who arrive after the fact. */
export function describeDecided(request: RequestRow): string {
  const when = request.decidedAt ? ` at ${request.decidedAt.toISOString()}` : "";
  switch (request.status) {
    case "approved":
      return request.autoApprovalReason
        ? `This request was already auto-approved (${request.autoApprovalReason})${when}.`
        : `This request was already approved${request.decidedById ? ` by ${request.decidedById}` : ""}${when}.`;
    case "denied":
      return `This request was already denied${request.decidedById ? ` by ${request.decidedById}` : ""}${when}.`;
    case "cancelled":
      return `This request was cancelled by its requester${when}.`;
    case "expired":
      return `This request expired without a decision${when}.`;
    case "pending":
      return "This request is still waiting for approval.";
  }
}
