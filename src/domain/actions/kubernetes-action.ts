import { isNamespaceName, isObjectName } from "../kubernetes-names.js";
import type { ActionClassification } from "./action-kind.js";

/**
 * Reads a Kubernetes action: a strict, kubectl-like grammar of the three operations Sesame runs,
 * tokenized and checked word by word (never handed to a shell or to kubectl):
 *   rollout restart deployment|statefulset|daemonset/<name>      → class restart
 *   scale deployment|statefulset/<name> --replicas=<0..1000>     → class scale
 *   delete pod <name>  (or pod/<name>)                           → class delete
 * each with an optional `-n <ns>`, `--namespace=<ns>` or `--namespace <ns>`, and an optional
 * leading `kubectl`. The short names deploy, sts, ds and po and the plural names are accepted; the
 * object may also be written `<type> <name>`. Anything else is refused, saying what is accepted.
 * Pure.
 */

export type WorkloadKind = "deployment" | "statefulset" | "daemonset";
export type ScalableKind = "deployment" | "statefulset";

export type KubernetesOperation =
  | { op: "restart"; kind: WorkloadKind; name: string; namespace: string | null }
  | { op: "scale"; kind: ScalableKind; name: string; replicas: number; namespace: string | null }
  | { op: "delete"; kind: "pod"; name: string; namespace: string | null };

/** A resource's Kubernetes target, as far as actions care: its namespace, or cluster-wide. */
export interface KubernetesActionScope {
  namespace?: string | undefined;
  clusterWide?: boolean | undefined;
}

const MAX_REPLICAS = 1000;

export const KUBERNETES_GRAMMAR =
  "Sesame runs one of: rollout restart deployment|statefulset|daemonset/<name>; scale deployment|statefulset/<name> --replicas=<0-1000>; delete pod <name>; each with an optional -n <namespace>";

const KINDS: ReadonlyMap<string, WorkloadKind | "pod"> = new Map([
  ...["deployment", "deployments", "deploy"].map((alias) => [alias, "deployment"] as const),
  ...["statefulset", "statefulsets", "sts"].map((alias) => [alias, "statefulset"] as const),
  ...["daemonset", "daemonsets", "ds"].map((alias) => [alias, "daemonset"] as const),
  ...["pod", "pods", "po"].map((alias) => [alias, "pod"] as const),
]);

/** Letters, digits and the punctuation of names and flags; anything else (`;`, `|`, `$`, quotes…) is refused. */
const WORD_CHARACTERS = /^[A-Za-z0-9._/=-]+$/;

type Refusal = { refusal: string };
type Parsed = { operation: KubernetesOperation } | Refusal;

const refuse = (why: string): Refusal => ({ refusal: `${why}. ${KUBERNETES_GRAMMAR}` });

interface Words {
  positional: string[];
  namespace: string | null;
  replicas: string | null;
}

/** Splits the text into positional words and the two flags Sesame knows; a string is the refusal. */
function tokenize(text: string): Words | string {
  const tokens = text.trim().split(/\s+/);
  const odd = tokens.find((token) => !WORD_CHARACTERS.test(token));
  if (odd !== undefined)
    return `"${odd.slice(0, 40)}" has characters Sesame does not accept (this is one Kubernetes operation, not a shell line)`;
  if (tokens[0] === "kubectl") tokens.shift();
  const words: Words = { positional: [], namespace: null, replicas: null };
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    const equals = token.startsWith("--") ? token.indexOf("=") : -1;
    const flag = equals === -1 ? token : token.slice(0, equals);
    const inline = equals === -1 ? undefined : token.slice(equals + 1);
    const field = flag === "-n" || flag === "--namespace" ? "namespace" : flag === "--replicas" ? "replicas" : null;
    if (field === null) {
      if (token.startsWith("-")) return `the flag ${flag} is not accepted`;
      words.positional.push(token);
      continue;
    }
    if (words[field] !== null) return `${flag} is given twice`;
    if (inline === undefined) index += 1;
    const value = inline ?? tokens[index];
    if (value === undefined || value === "" || value.startsWith("-")) return `${flag} needs a value`;
    words[field] = value;
  }
  return words;
}

export function parseKubernetesAction(text: string): Parsed {
  if (text.trim() === "") return refuse("there is no operation to run");
  const words = tokenize(text);
  if (typeof words === "string") return refuse(words);
  const { positional, namespace } = words;
  if (namespace !== null && !isNamespaceName(namespace))
    return refuse(`"${namespace}" is not a namespace name (lower-case letters, digits and '-')`);
  const verb = positional[0] === "rollout" && positional[1] === "restart" ? "restart" : positional[0];
  const rest = positional.slice(verb === "restart" ? 2 : 1);
  if (verb !== "restart" && verb !== "scale" && verb !== "delete")
    return refuse(`"${positional.slice(0, 2).join(" ")}" is not an operation Sesame runs`);
  const object = objectOf(rest);
  if ("refusal" in object) return object;
  const { kind, name } = object;
  if (verb !== "scale" && words.replicas !== null) return refuse("--replicas belongs to scale only");
  switch (verb) {
    case "restart":
      if (kind === "pod") return refuse("rollout restart takes a deployment, statefulset or daemonset, not a pod");
      return { operation: { op: "restart", kind, name, namespace } };
    case "delete":
      if (kind !== "pod") return refuse(`Sesame deletes pods only, not a ${kind}`);
      return { operation: { op: "delete", kind, name, namespace } };
    case "scale": {
      if (kind !== "deployment" && kind !== "statefulset")
        return refuse(`scale takes a deployment or statefulset, not a ${kind}`);
      const replicas = replicasOf(words.replicas);
      if (typeof replicas === "string") return refuse(replicas);
      return { operation: { op: "scale", kind, name, replicas, namespace } };
    }
  }
}

/** `<type>/<name>` or `<type> <name>`: exactly one object. */
function objectOf(rest: string[]): { kind: WorkloadKind | "pod"; name: string } | Refusal {
  const parts = rest.length === 1 ? rest[0]!.split("/") : rest;
  if (rest.length === 0 || parts.length !== 2 || (rest.length === 2 && rest.some((word) => word.includes("/"))))
    return refuse(
      rest.length === 0
        ? "the operation names no object"
        : "name exactly one object, as <type>/<name> or <type> <name>",
    );
  const [type, name] = parts as [string, string];
  const kind = KINDS.get(type);
  if (kind === undefined) return refuse(`"${type}" is not an object type Sesame acts on`);
  if (!isObjectName(name))
    return refuse(`"${name}" is not a Kubernetes object name (lower-case letters, digits, '-', '.')`);
  return { kind, name };
}

function replicasOf(value: string | null): number | string {
  if (value === null) return "scale needs --replicas=<n>";
  if (!/^\d{1,4}$/.test(value) || Number(value) > MAX_REPLICAS)
    return `--replicas must be a whole number from 0 to ${MAX_REPLICAS}`;
  return Number(value);
}

/**
 * The namespace an operation runs in: its own `-n`, else the target's. A target in one namespace
 * allows that namespace only; a cluster-wide target needs `-n`. (The connector's
 * allowedNamespaces are checked by the executor, at submission and again at run time.)
 */
export function namespaceOf(
  operation: KubernetesOperation,
  scope: KubernetesActionScope,
): { namespace: string } | { problem: string } {
  if (scope.namespace !== undefined && operation.namespace !== null && operation.namespace !== scope.namespace)
    return { problem: `this resource acts in namespace ${scope.namespace} only, not ${operation.namespace}` };
  const namespace = operation.namespace ?? scope.namespace;
  if (namespace === undefined)
    return { problem: "this resource is cluster-wide: say the namespace with -n <namespace>" };
  return { namespace };
}

export function classifyKubernetesAction(text: string, scope: KubernetesActionScope): ActionClassification {
  const parsed = parseKubernetesAction(text);
  if ("refusal" in parsed) return { class: "refused", why: parsed.refusal };
  const { operation } = parsed;
  const resolved = namespaceOf(operation, scope);
  if ("problem" in resolved) return { class: "refused", why: resolved.problem };
  const where = `in namespace ${resolved.namespace}`;
  switch (operation.op) {
    case "restart":
      return {
        class: "restart",
        why: `restarts ${operation.kind} ${operation.name} ${where} (its pods are replaced one by one)`,
      };
    case "scale":
      return {
        class: "scale",
        why: `sets ${operation.kind} ${operation.name} ${where} to ${operation.replicas} replica${operation.replicas === 1 ? "" : "s"}`,
      };
    case "delete":
      return {
        class: "delete",
        why: `deletes pod ${operation.name} ${where} (a controller that owns it starts a new one)`,
      };
  }
}
