import type { RequestRow } from "../domain/access-request.js";
import { actionApproversOf } from "../domain/actions/action-evaluation.js";
import { changeRequest } from "./change-request.js";
import type { ServiceDeps } from "./deps.js";

export interface DecideInput {
  requestId: string;
  /** The verified identity of whoever clicked or called; never taken from a button value. */
  actorId: string;
  decision: "approve" | "deny";
  /** The request version the approver saw (cards carry it); a mismatch means the card is stale. */
  expectedVersion?: number;
  comment?: string;
  /** For an action request: the sha256 of the text the approver read; a mismatch records nothing. */
  expectedSha256?: string;
}

/**
 * Records an approval or a denial. The request row is locked for the decision, so two approvers
 * deciding at the same moment end in exactly one outcome; the second is told what happened.
 */
export function decideRequest(deps: ServiceDeps, input: DecideInput): Promise<RequestRow> {
  const common = {
    actorId: input.actorId,
    ...(input.expectedVersion === undefined ? {} : { expectedVersion: input.expectedVersion }),
  };
  const event =
    input.decision === "approve"
      ? ({
          type: "approve",
          ...common,
          ...(input.comment ? { comment: input.comment } : {}),
          ...(input.expectedSha256 ? { expectedSha256: input.expectedSha256.toLowerCase() } : {}),
        } as const)
      : ({ type: "deny", ...common, ...(input.comment ? { reason: input.comment } : {}) } as const);
  return changeRequest(deps, input.requestId, event, async (uow, request) => ({
    isStillApprover: stillApprovers(deps, request),
    ...(request.kind === "extension" && request.extendsGrantId
      ? { extendedGrantStatus: (await uow.getGrant(request.extendsGrantId))?.status ?? "missing" }
      : {}),
  }));
}

/**
 * Who may still decide under the current policy (group membership may have changed since the
 * request was made). Someone asked because they were on call stays an approver of this request
 * while the policy still uses on-call.
 */
function stillApprovers(deps: ServiceDeps, request: RequestRow): (personId: string) => boolean {
  const book = deps.policy();
  const approvers = new Set(book.approversFor(request.policyId));
  // An action's approvers may come from the resource's action rules rather than the policy's steps.
  if (request.snapshot.action)
    for (const id of actionApproversOf(book.resource(request.resourceId), book.groupTable())) approvers.add(id);
  const policy = book.policy(request.policyId);
  if (
    policy &&
    (policy.escalation.some((step) => step.action === "page") || book.onCallSourcesOf(policy).approvers.length > 0)
  ) {
    for (const id of request.snapshot.onCallApproverIds ?? []) approvers.add(id);
  }
  return (personId) => approvers.has(personId);
}
