import { AppError } from "../domain/errors.js";
import { CONNECTOR_TRANSACTION_MS, type ServiceDeps } from "./deps.js";
import { extendAtTarget } from "./grant-extension.js";
import { publishOutcome, scheduleAfterApproval } from "./outcome.js";
import type { RequestRow } from "./ports.js";
import { describeDecided } from "./request-text.js";
import { applyRequestEvent } from "./request-transitions.js";

export interface DecideInput {
  requestId: string;
  /** The verified identity of whoever clicked or called; never taken from a button value. */
  actorId: string;
  decision: "approve" | "deny";
  /** The request version the approver saw (cards carry it); a mismatch means the card is stale. */
  expectedVersion?: number;
  comment?: string;
}

/**
 * Records an approval or a denial. The request row is locked for the decision, so two approvers
 * deciding at the same moment end in exactly one outcome; the second is told what happened.
 */
export async function decideRequest(deps: ServiceDeps, input: DecideInput): Promise<RequestRow> {
  const now = deps.now();
  const outcome = await deps.store.transaction(
    async (uow) => {
      const request = await uow.lockRequest(input.requestId);
      if (!request) throw new AppError("not_found", `There is no request ${input.requestId}.`);
      // Only people the request names learn anything about its state.
      if (
        request.requesterId !== input.actorId &&
        !request.snapshot.steps.some((step) => step.approverIds.includes(input.actorId))
      ) {
        throw new AppError("forbidden", "You are not an approver for this request, so your decision was not recorded.");
      }
      if (request.status !== "pending") {
        throw new AppError("already_decided", `${describeDecided(request)} Your decision was not recorded.`, {
          details: { status: request.status, version: request.version },
        });
      }
      if (request.pendingUntil <= now) {
        throw new AppError(
          "already_decided",
          `This request expired at ${request.pendingUntil.toISOString()} without a decision; nothing was recorded. The requester can ask again.`,
          {
            details: { status: "expired", version: request.version },
          },
        );
      }
      if (input.expectedVersion !== undefined && input.expectedVersion !== request.version) {
        throw new AppError(
          "stale",
          "This request changed since your card was sent (another approval arrived). Nothing was recorded; look at the current request and decide again.",
          {
            details: { status: request.status, version: request.version },
          },
        );
      }
      if (request.kind === "extension" && input.decision === "approve") {
        const grant = request.extendsGrantId ? await uow.getGrant(request.extendsGrantId) : null;
        if (grant?.status !== "active") {
          throw new AppError(
            "conflict",
            `The grant this extension is for is no longer active (${grant?.status ?? "missing"}), so there is nothing to extend. Deny the extension or let it expire.`,
          );
        }
      }
      const stillApprovers = new Set(deps.policy().approversFor(request.policyId));
      // Someone asked because they were on call stays an approver of this request while the policy still uses on-call.
      const policy = deps.policy().policy(request.policyId);
      if (
        policy &&
        (policy.escalation.some((step) => step.action === "page") ||
          deps.policy().onCallSourcesOf(policy).approvers.length > 0)
      ) {
        for (const id of request.snapshot.onCallApproverIds ?? []) stillApprovers.add(id);
      }
      const event =
        input.decision === "approve"
          ? ({ type: "approve", actorId: input.actorId, ...(input.comment ? { comment: input.comment } : {}) } as const)
          : ({ type: "deny", actorId: input.actorId, ...(input.comment ? { reason: input.comment } : {}) } as const);
      return applyRequestEvent(uow, request, event, {
        now,
        isStillApprover: (id) => stillApprovers.has(id),
        extendTarget: extendAtTarget(deps),
      });
    },
    { timeoutMs: CONNECTOR_TRANSACTION_MS },
  );
  await scheduleAfterApproval(deps, outcome);
  await publishOutcome(deps, outcome);
  return outcome.request;
}
