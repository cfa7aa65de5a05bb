import { formatDuration, parseDuration } from "../duration.js";
import type { OnCallRoster } from "./approval-steps.js";
import type { AutoApproveRule, Resource } from "./policy-schema.js";
import { describeLocalClock, describeTimeWindow, isWithinTimeWindow } from "./time-window.js";

/** Auto-approval: a rule applies when every condition it states holds; the first such rule wins. */

export interface AutoApprovalContext {
  requesterGroups: ReadonlySet<string>;
  resource: Resource;
  resourceId: string;
  /** The ticket or CI run id given with the request, if any. */
  ticket?: string | undefined;
  durationSeconds: number;
  now: Date;
  requesterId: string;
  roster: OnCallRoster;
}

export interface AutoApprovalRuleCheck {
  reason: string;
  matched: boolean;
  /** Human reasons the rule did not apply, one per unmet condition. */
  unmet: string[];
}

function unmetConditions(rule: AutoApproveRule, context: AutoApprovalContext): string[] {
  const unmet: string[] = [];
  if (rule.requester !== undefined && context.requesterId !== rule.requester) {
    unmet.push(`only ${rule.requester} is approved by this rule`);
  }
  if (rule.resources !== undefined && !rule.resources.includes(context.resourceId)) {
    unmet.push(`${context.resourceId} is not one of ${rule.resources.join(", ")}`);
  }
  if (rule.ticketPattern !== undefined && !new RegExp(rule.ticketPattern).test(context.ticket?.trim() ?? "")) {
    unmet.push(
      context.ticket?.trim()
        ? `the ticket / run id "${context.ticket.trim()}" does not match ${rule.ticketPattern}`
        : "no ticket / run id was given",
    );
  }
  if (rule.requesterInGroup !== undefined && !context.requesterGroups.has(rule.requesterInGroup)) {
    unmet.push(`you are not in group ${rule.requesterInGroup}`);
  }
  if (rule.resourceRisk !== undefined && context.resource.risk !== rule.resourceRisk) {
    unmet.push(`the resource risk is ${context.resource.risk}, not ${rule.resourceRisk}`);
  }
  const window = rule.withinTimeWindow;
  if (window !== undefined && !isWithinTimeWindow(window, context.now)) {
    const local = describeLocalClock(context.now, window.timezone);
    unmet.push(`it is ${local} in ${window.timezone}, outside ${describeTimeWindow(window)}`);
  }
  if (rule.maxDuration !== undefined && context.durationSeconds > parseDuration(rule.maxDuration)) {
    unmet.push(
      `${formatDuration(context.durationSeconds)} is longer than ${formatDuration(parseDuration(rule.maxDuration))}`,
    );
  }
  const source = rule.requesterOnCall;
  if (source !== undefined) {
    // An outage never approves: the rule simply does not apply and people decide.
    if (context.roster.unavailable.has(source))
      unmet.push(`on-call for ${source} could not be checked right now (provider unavailable), so people decide`);
    else if (!shiftOf(context, source)) unmet.push(`you are not on call for ${source} right now`);
  }
  return unmet;
}

function shiftOf(context: AutoApprovalContext, source: string): { until: Date | null } | undefined {
  return context.roster.onCall
    .get(source)
    ?.find(
      (person) => person.identityId === context.requesterId && (person.until === null || person.until > context.now),
    );
}

export function checkAutoApproveRules(rules: AutoApproveRule[], context: AutoApprovalContext): AutoApprovalRuleCheck[] {
  return rules.map((rule) => {
    const unmet = unmetConditions(rule, context);
    return { reason: rule.reason, matched: unmet.length === 0, unmet };
  });
}

export interface AutoApproval {
  reason: string;
  /** The grant must end by then (the requester's on-call shift ends). */
  endsBy?: Date;
}

export function autoApprovalFor(rules: AutoApproveRule[], context: AutoApprovalContext): AutoApproval | null {
  const index = checkAutoApproveRules(rules, context).findIndex((check) => check.matched);
  const rule = rules[index];
  if (!rule) return null;
  const until = rule.requesterOnCall && rule.endWithShift ? shiftOf(context, rule.requesterOnCall)?.until : undefined;
  if (!until) return { reason: rule.reason };
  return {
    reason: `${rule.reason} (on call for ${rule.requesterOnCall} until ${until.toISOString()}; the grant ends with the shift)`,
    endsBy: until,
  };
}
