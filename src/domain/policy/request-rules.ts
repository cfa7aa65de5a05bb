import { formatDurationWithHours, parseDuration } from "../duration.js";
import { AppError } from "../errors.js";
import type { ResolvedStep } from "./approval-steps.js";
import type { Policy } from "./policy-schema.js";

/** The rules a request must pass, each with the refusal a person sees when it does not. */

export function unknownRequesterError(requesterId: string): AppError {
  return new AppError(
    "forbidden",
    `You have no Sesame identity ("${requesterId}"). Ask an admin to add you to people in the policy file.`,
    { details: { field: "requesterId", requesterId } },
  );
}

/** Refuses a resource that does not exist or that no policy lets the person request. */
export function resourceRefusal(resourceId: string, exists: boolean, allowed: string[]): AppError {
  const youMay =
    allowed.length > 0 ? `You may request: ${allowed.join(", ")}.` : "You may not request anything yet; ask an admin.";
  const details = { field: "resourceId", resourceId, allowed };
  if (!exists) return new AppError("not_found", `There is no resource "${resourceId}". ${youMay}`, { details });
  return new AppError("forbidden", `You may not request ${resourceId}: no policy lists you as a requester. ${youMay}`, {
    details,
  });
}

/** The duration to grant: the policy default when none is asked for, else the request if within max. */
export function checkDuration(policy: Policy, resourceId: string, requestedSeconds: number | undefined): number {
  const maxSeconds = parseDuration(policy.duration.max);
  if (requestedSeconds === undefined) return parseDuration(policy.duration.default);
  if (!Number.isInteger(requestedSeconds) || requestedSeconds <= 0) {
    throw new AppError("invalid_input", "The duration must be longer than zero, e.g. 30m or 1h.", {
      details: { field: "durationSeconds", requestedSeconds },
    });
  }
  if (requestedSeconds > maxSeconds) {
    throw new AppError(
      "policy_violation",
      `${formatDurationWithHours(requestedSeconds)} is too long: the maximum for ${resourceId} is ${formatDurationWithHours(maxSeconds)}.`,
      { details: { field: "durationSeconds", requestedSeconds, maxSeconds } },
    );
  }
  return requestedSeconds;
}

type TextField = "reason" | "ticket";

/** Checks a reason or ticket against the policy; returns the trimmed value (undefined when empty). */
export function checkText(
  policy: Policy,
  field: TextField,
  resourceId: string,
  value: string | undefined,
): string | undefined {
  const requirement = policy[field];
  const text = value?.trim() || undefined;
  const hint = requirement.hint === undefined ? "" : ` ${requirement.hint}`;
  if (text === undefined) {
    if (!requirement.required) return undefined;
    throw new AppError("invalid_input", `A ${field} is required for ${resourceId}.${hint}`, {
      details: { field, policyId: policy.id },
    });
  }
  if (requirement.pattern !== undefined && !new RegExp(requirement.pattern).test(text)) {
    const fix = requirement.hint ?? `It must match ${requirement.pattern}.`;
    throw new AppError("invalid_input", `The ${field} "${text}" does not look right for ${resourceId}. ${fix}`, {
      details: { field, pattern: requirement.pattern, policyId: policy.id },
    });
  }
  return text;
}

/** The refusal for a step that cannot collect its approvals (see `resolveSteps`). */
export function unreachableStepError(
  policy: Policy,
  unreachable: { step: ResolvedStep; requesterExcluded: boolean },
  onCallUnavailable: string[] = [],
): AppError {
  const { step, requesterExcluded } = unreachable;
  const available = step.approverIds.length;
  const others = requesterExcluded ? "other " : "";
  const people = available === 1 ? `1 ${others}person` : `${available} ${others}people`;
  const opening = requesterExcluded ? "Nobody else can approve this" : "Nobody can approve this";
  const why = requesterExcluded ? " (you cannot approve your own request)" : "";
  const approvals = step.required === 1 ? "1 approval" : `${step.required} approvals`;
  return new AppError(
    "policy_violation",
    `${opening}: step "${step.name}" needs ${approvals} and only ${people} can give them${why}. ` +
      (onCallUnavailable.length > 0
        ? `Who is on call for ${onCallUnavailable.join(", ")} could not be checked right now; try again in a few minutes or ask an admin.`
        : `Ask an admin to add approvers to policy ${policy.id}.`),
    { details: { policyId: policy.id, step: step.name, required: step.required, available, requesterExcluded } },
  );
}

/** A service identity that no person may approve asked for something no auto-approval rule approves. */
export function noHumanApprovalError(
  policy: Policy,
  input: { requesterId: string; resourceId: string },
  unmet: string[] = [],
): AppError {
  const why = unmet.length > 0 ? ` (${unmet.join("; ")})` : "";
  return new AppError(
    "policy_violation",
    `${input.requesterId} is a service identity that is never approved by a person, and no auto-approval rule of policy ${policy.id} approves this request for ${input.resourceId}${why}.`,
    { details: { policyId: policy.id, requesterId: input.requesterId, humanApproval: false } },
  );
}

/** A service identity asked for a resource outside its `service.resources`. */
export function serviceResourceRefusal(requesterId: string, resourceId: string, allowed: string[]): AppError {
  return new AppError(
    "forbidden",
    `${requesterId} is a service identity that may only ask for ${allowed.join(", ")}, not ${resourceId}.`,
    { details: { field: "resourceId", resourceId, allowed } },
  );
}
