import { parseDuration, toSeconds } from "../domain/duration.js";
import type { RequestEvaluation } from "../domain/policy-book.js";
import type { ServiceDeps } from "./deps.js";
import { afterSubmission } from "./outcome.js";
import type { ConnectorProvider, RequestRow, RequestSnapshot } from "./ports.js";
import { applyRequestEvent } from "./request-transitions.js";

export interface SubmitRequestInput {
  requesterId: string;
  resourceId: string;
  /** Seconds, or a duration text such as "1h"; the policy default when absent. */
  duration?: number | string;
  reason?: string;
  ticket?: string;
}

export function snapshotOf(evaluation: RequestEvaluation, connectors: ConnectorProvider): RequestSnapshot {
  const extension = evaluation.policy.extension;
  const connectorName = evaluation.resource.connector;
  return {
    policyId: evaluation.policyId,
    steps: evaluation.steps,
    selfApproval: evaluation.selfApproval,
    matchedBecause: evaluation.matchedBecause,
    maxDurationSeconds: evaluation.maxDurationSeconds,
    extension: {
      requiresApproval: extension.requiresApproval,
      maxTotalSeconds: extension.maxTotal ? parseDuration(extension.maxTotal) : evaluation.maxDurationSeconds,
    },
    connectorName,
    target: evaluation.resource.target,
    principal: evaluation.principal,
    entitlementKey: connectors.entitlementKeyFor(connectorName, evaluation.resource.target, evaluation.principal),
  };
}

/** Submits an access request: checks it against the policy, stores it, and auto-approves when a rule says so. */
export async function submitRequest(deps: ServiceDeps, input: SubmitRequestInput): Promise<RequestRow> {
  const now = deps.now();
  const durationSeconds = input.duration === undefined ? undefined : toSeconds(input.duration);
  const evaluation = deps.policy().evaluateRequest(
    {
      requesterId: input.requesterId,
      resourceId: input.resourceId,
      ...(durationSeconds === undefined ? {} : { durationSeconds }),
      ...(input.reason ? { reason: input.reason } : {}),
      ...(input.ticket ? { ticket: input.ticket } : {}),
    },
    now,
  );
  const outcome = await deps.store.transaction(async (uow) => {
    const request = await uow.createRequest({
      kind: "access",
      requesterId: input.requesterId,
      resourceId: input.resourceId,
      policyId: evaluation.policyId,
      durationSeconds: evaluation.durationSeconds,
      reason: input.reason?.trim() || null,
      ticket: input.ticket?.trim() || null,
      snapshot: snapshotOf(evaluation, deps.connectors),
      autoApprovalReason: null,
      extendsGrantId: null,
      pendingUntil: new Date(now.getTime() + evaluation.pendingTimeoutSeconds * 1000),
    });
    await uow.appendAudit({
      type: "request.submitted",
      actorId: input.requesterId,
      requestId: request.id,
      data: { resourceId: request.resourceId, policyId: request.policyId, durationSeconds: request.durationSeconds, reason: request.reason, ticket: request.ticket, matchedBecause: evaluation.matchedBecause },
    });
    if (!evaluation.autoApproval) return { request, grant: null, stepAdvanced: false };
    return applyRequestEvent(uow, request, { type: "auto_approve", reason: evaluation.autoApproval.reason }, { now, isStillApprover: () => false });
  });
  await afterSubmission(deps, outcome);
  return outcome.request;
}
