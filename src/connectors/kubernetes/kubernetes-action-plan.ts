import {
  type KubernetesOperation,
  namespaceOf,
  parseKubernetesAction,
} from "../../domain/actions/kubernetes-action.js";
import type { ObjectRef } from "./kubernetes-api.js";
import { type KubernetesConfig, type KubernetesTarget, namespaceAllowed } from "./kubernetes-config.js";

/**
 * Where a Kubernetes action runs, checked against the connector: the namespace it names, else the
 * target's; only the target's when the target has one; always inside `allowedNamespaces`. Used at
 * submission (refused before anyone is asked) and again by the executor just before it sends
 * anything (the policy or the connector may have changed since the approval). Loads no client.
 */

export type PlannedKubernetesAction = { operation: KubernetesOperation; ref: ObjectRef };

/** The operation and where it runs, or why it must not run here (refused before anything is sent). */
export function planKubernetesAction(
  config: Pick<KubernetesConfig, "allowedNamespaces">,
  target: Pick<KubernetesTarget, "namespace" | "clusterWide">,
  text: string,
): PlannedKubernetesAction | { problem: string } {
  const parsed = parseKubernetesAction(text);
  if ("refusal" in parsed) return { problem: parsed.refusal };
  const resolved = namespaceOf(parsed.operation, target);
  if ("problem" in resolved) return resolved;
  if (!namespaceAllowed(resolved.namespace, config.allowedNamespaces))
    return {
      problem: `namespace ${resolved.namespace} is outside the connector's allowedNamespaces (${config.allowedNamespaces.join(", ")})`,
    };
  return { operation: parsed.operation, ref: { namespace: resolved.namespace, name: parsed.operation.name } };
}
