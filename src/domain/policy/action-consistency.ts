import { ACTION_KINDS, actionKindOfConnector, CLASSES_OF_KIND } from "../actions/action-kind.js";
import { ResourceActionsSchema } from "./action-schema.js";
import type { PolicyFile } from "./policy-schema.js";

/**
 * The connector implies the kind of action (SQL on postgres and mysql in role mode, Kubernetes
 * operations on kubernetes, commands on webhook); `kinds` may only name that one. The noop
 * stand-in runs nothing and takes any kind.
 */
export function checkActionKinds(
  resource: PolicyFile["resources"][string],
  type: string,
  at: Array<string | number>,
  report: (path: Array<string | number>, message: string) => void,
): void {
  if (type === "noop") return;
  const native = actionKindOfConnector(type);
  if (native === null) {
    report(
      [...at, "kinds"],
      `connector "${resource.connector}" is ${type}, which runs no actions (SQL runs on postgres and mysql, Kubernetes operations on kubernetes, commands on webhook): remove the actions block`,
    );
    return;
  }
  for (const [index, kind] of (resource.actions?.kinds ?? []).entries())
    if (kind !== native)
      report(
        [...at, "kinds", index],
        `connector "${resource.connector}" is ${type}, which runs ${native} actions, not ${kind}: name ${native} or leave kinds out`,
      );
  if (type === "mysql" && (resource.target as { mode?: unknown }).mode !== "role")
    report([...at, "kinds"], "SQL actions on mysql connectors need a role target (mode: role) to SET ROLE to");
  // A postgres target without mode is a membership target; only a login-role target cannot run SQL.
  if (type === "postgres" && (resource.target as { mode?: unknown }).mode === "login-role")
    report(
      [...at, "kinds"],
      "SQL actions on postgres connectors need a membership target (a role to SET ROLE to), not mode: login-role",
    );
  // A rule for another kind's class would never apply: say so rather than ignore it.
  for (const [name, rule] of Object.entries(resource.actions?.classes ?? {})) {
    const kind = ACTION_KINDS.find((candidate) => CLASSES_OF_KIND[candidate].some((c) => c === name));
    if (kind !== undefined && kind !== native && !isDefaultRule(name, rule))
      report(
        [...at, "classes", name],
        `class ${name} is for ${kind} actions; connector "${resource.connector}" runs ${native} actions, so this rule never applies: remove it`,
      );
  }
}

const DEFAULT_CLASS_RULES: Record<string, unknown> = ResourceActionsSchema.shape.classes.parse(undefined);
const isDefaultRule = (name: string, rule: unknown): boolean =>
  JSON.stringify(rule) === JSON.stringify(DEFAULT_CLASS_RULES[name]);
