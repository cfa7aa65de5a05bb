import type { AutoApproveRule, Resource } from "../config/policy-schema.js";
import { formatDuration, parseDuration } from "./duration.js";
import { describeLocalClock, describeTimeWindow, isWithinTimeWindow } from "./time-window.js";

/** Auto-approval: a rule applies when every condition it states holds; the first such rule wins. */

export interface AutoApprovalContext {
  requesterGroups: ReadonlySet<string>;
  resource: Resource;
  durationSeconds: number;
  now: Date;
}

export interface AutoApprovalRuleCheck {
  reason: string;
  matched: boolean;
  /** Human reasons the rule did not apply, one per unmet condition. */
  unmet: string[];
}

function unmetConditions(rule: AutoApproveRule, context: AutoApprovalContext): string[] {
  const unmet: string[] = [];
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
    unmet.push(`${formatDuration(context.durationSeconds)} is longer than ${formatDuration(parseDuration(rule.maxDuration))}`);
  }
  return unmet;
}

export function checkAutoApproveRules(rules: AutoApproveRule[], context: AutoApprovalContext): AutoApprovalRuleCheck[] {
  return rules.map((rule) => {
    const unmet = unmetConditions(rule, context);
    return { reason: rule.reason, matched: unmet.length === 0, unmet };
  });
}

export function autoApprovalFor(rules: AutoApproveRule[], context: AutoApprovalContext): { reason: string } | null {
  const match = checkAutoApproveRules(rules, context).find((check) => check.matched);
  return match ? { reason: match.reason } : null;
}
