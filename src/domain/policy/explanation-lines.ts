import { formatDuration, parseDuration } from "../duration.js";
import type { PolicyExplanation, Refusal, TextRequirementExplanation } from "./policy-explain.js";
import type { Policy } from "./policy-schema.js";
import { pendingTimeoutSecondsOf } from "./request-evaluation.js";

/** The human text of `sesame policy explain`: short statements an admin can read top to bottom. */

export function refusedLines(requesterId: string, resourceId: string, refusal: Refusal, listing: Policy[]): string[] {
  const policies = listing.map((policy) => `${policy.id} (${describeRequesters(policy)})`);
  return [
    `Request: ${requesterId} → ${resourceId}.`,
    policies.length > 0 ? `Policies listing ${resourceId}: ${policies.join("; ")}.` : `No policy lists ${resourceId}.`,
    `Outcome: refused: ${refusal.message}`,
  ];
}

function describeRequesters(policy: Policy): string {
  const { users, groups, everyone } = policy.requesters;
  if (everyone) return "everyone may request";
  const parts = [
    users.length > 0 ? `users ${users.join(", ")}` : "",
    groups.length > 0 ? `groups ${groups.join(", ")}` : "",
  ];
  return `requesters: ${parts.filter(Boolean).join("; ") || "nobody"}`;
}

export function explanationLines(explanation: PolicyExplanation, policy: Policy, connector: string): string[] {
  const { requesterId, resourceId, duration, refusal, steps, autoApproval } = explanation;
  const lines: string[] = [];
  if (duration) {
    const { requestedSeconds, defaultSeconds, maxSeconds } = duration;
    lines.push(
      `Request: ${requesterId} → ${resourceId} for ${formatDuration(requestedSeconds)} ` +
        `(default ${formatDuration(defaultSeconds)}, max ${formatDuration(maxSeconds)}).`,
    );
  }
  lines.push(`Matched ${explanation.matchedBecause}.`);
  if (explanation.principal !== null)
    lines.push(`Grants to principal "${explanation.principal}" via connector ${connector}.`);
  steps.forEach((step, index) => {
    const excluded = step.requesterExcluded ? `; ${requesterId} is excluded (no self-approval)` : "";
    const approvers = step.approverIds.join(", ") || "nobody";
    lines.push(
      `Step ${index + 1}/${steps.length} (${step.name}): needs ${step.required} of ${step.approverIds.length} ` +
        `approver(s): ${approvers}${excluded}.`,
    );
  });
  lines.push(
    policy.selfApproval ? "Self-approval: on (the requester may approve their own request)." : "Self-approval: off.",
  );
  lines.push(...autoApprovalLines(explanation));
  lines.push(textLine("Reason", explanation.reason), textLine("Ticket", explanation.ticket));
  lines.push(pendingLine(policy));
  if (explanation.escalation.length > 0)
    lines.push("Escalation while nobody answers:", ...explanation.escalation.map((step) => `  - ${step.text}.`));
  if (policy.breakGlass)
    lines.push(
      `Break-glass: allowed, up to ${policy.breakGlass.maxDuration}${policy.breakGlass.page ? `, paging ${policy.breakGlass.page}` : ""}; reviewed after the fact.`,
    );
  if (refusal) lines.push(`Outcome: refused: ${refusal.message}`);
  else if (autoApproval) lines.push(`Outcome: would auto-approve ("${autoApproval.reason}").`);
  else lines.push("Outcome: needs approval.");
  return lines;
}

/** The deadline a request really gets: the ladder's expire step cuts `pendingTimeout` short. */
function pendingLine(policy: Policy): string {
  const seconds = pendingTimeoutSecondsOf(policy);
  if (seconds < parseDuration(policy.pendingTimeout))
    return `Pending requests expire after ${formatDuration(seconds)} (the escalation ladder's expire step comes before pendingTimeout ${policy.pendingTimeout}).`;
  return `Pending requests expire after ${policy.pendingTimeout}.`;
}

function autoApprovalLines(explanation: PolicyExplanation): string[] {
  if (explanation.autoApprovalRules.length === 0) return ["Auto-approval: no rules."];
  const verdict = explanation.autoApproval ? `yes ("${explanation.autoApproval.reason}")` : "no";
  return [
    `Auto-approval: ${verdict}.`,
    ...explanation.autoApprovalRules.map((rule) =>
      rule.matched
        ? `  - "${rule.reason}": matches.`
        : `  - "${rule.reason}": does not match: ${rule.unmet.join("; ")}.`,
    ),
  ];
}

function textLine(label: string, requirement: TextRequirementExplanation | null): string {
  if (!requirement) return `${label}: n/a.`;
  const pattern = requirement.pattern === null ? "" : `, must match ${requirement.pattern}`;
  const hint = requirement.hint === null ? "" : ` Hint: ${requirement.hint}`;
  return `${label}: ${requirement.required ? "required" : "optional"}${pattern}.${hint}`;
}
