import type { AuthorizationV1Api } from "@kubernetes/client-node";
import { roleRefOf } from "./binding-spec.js";
import { type KubernetesConfig, type KubernetesTarget, namespaceAllowed } from "./kubernetes-config.js";

/**
 * What `check()` asks the API server: SelfSubjectAccessReviews ("may I ...?") for every
 * permission the targets need. Any authenticated account may ask, so a 401 means a bad token and
 * a denial names the exact verb and resource to add. Problems never contain a secret.
 */

const RBAC_GROUP = "rbac.authorization.k8s.io";

interface AccessQuestion {
  verb: string;
  resource: string;
  /** Undefined: cluster-wide. */
  namespace: string | undefined;
  name: string | undefined;
}

/** Guardrail problems: targets the connector would refuse before calling the API server. */
export function guardrailProblem(config: KubernetesConfig, target: KubernetesTarget): string | undefined {
  if (target.clusterWide)
    return config.allowClusterRoleBindings
      ? undefined
      : "clusterWide needs allowClusterRoleBindings: true in the connector config";
  const namespace = target.namespace ?? "";
  return namespaceAllowed(namespace, config.allowedNamespaces)
    ? undefined
    : `namespace "${namespace}" is not in the connector's allowedNamespaces`;
}

function bindingQuestions(resource: string, namespace: string | undefined): AccessQuestion[] {
  return ["get", "create", "delete"].map((verb) => ({ verb, resource, namespace, name: undefined }));
}

/** Creating a binding also needs `bind` on its role: Kubernetes' guard against privilege escalation. */
function targetQuestions(target: KubernetesTarget): AccessQuestion[] {
  const namespace = target.clusterWide ? undefined : target.namespace;
  const roleRef = roleRefOf(target);
  return [
    ...bindingQuestions(target.clusterWide ? "clusterrolebindings" : "rolebindings", namespace),
    { verb: "bind", resource: roleRef.kind === "Role" ? "roles" : "clusterroles", namespace, name: roleRef.name },
  ];
}

/** Without targets: the binding permissions in each namespace named exactly in allowedNamespaces. */
export function accessQuestions(config: KubernetesConfig, targets: readonly KubernetesTarget[]): AccessQuestion[] {
  const questions =
    targets.length > 0
      ? targets.flatMap(targetQuestions)
      : config.allowedNamespaces
          .filter((pattern) => !pattern.includes("*"))
          .flatMap((namespace) => bindingQuestions("rolebindings", namespace));
  const unique = new Map(questions.map((question) => [JSON.stringify(question), question]));
  return [...unique.values()];
}

function denial(question: AccessQuestion): string {
  const where = question.namespace === undefined ? "cluster-wide" : `in namespace "${question.namespace}"`;
  const object = question.name === undefined ? question.resource : `${question.resource} "${question.name}"`;
  const rule = `{ apiGroups: ["${RBAC_GROUP}"], resources: ["${question.resource}"], verbs: ["${question.verb}"]${question.name === undefined ? "" : `, resourceNames: ["${question.name}"]`} }`;
  const holder =
    question.namespace === undefined
      ? "a ClusterRole bound with a ClusterRoleBinding"
      : "a Role (or ClusterRole) bound in that namespace";
  return `Sesame's service account may not ${question.verb} ${object} (API group ${RBAC_GROUP}) ${where}: add the rule ${rule} to ${holder}`;
}

async function allowed(authorization: AuthorizationV1Api, question: AccessQuestion): Promise<boolean> {
  const review = await authorization.createSelfSubjectAccessReview({
    body: {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: {
        resourceAttributes: {
          group: RBAC_GROUP,
          verb: question.verb,
          resource: question.resource,
          namespace: question.namespace,
          name: question.name,
        },
      },
    },
  });
  return review.status?.allowed === true;
}

/** Asks each question; a transport or authentication error is thrown (the caller reports it once). */
export async function permissionProblems(
  authorization: AuthorizationV1Api,
  questions: readonly AccessQuestion[],
): Promise<string[]> {
  if (questions.length === 0) {
    // Nothing specific to ask (only wildcard namespaces): one answer still proves reachability and the token.
    await allowed(authorization, { verb: "get", resource: "rolebindings", namespace: undefined, name: undefined });
    return [];
  }
  const problems: string[] = [];
  for (const question of questions) if (!(await allowed(authorization, question))) problems.push(denial(question));
  return problems;
}
