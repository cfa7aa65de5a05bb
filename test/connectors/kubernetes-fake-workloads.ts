import { randomUUID } from "node:crypto";
import type { FakeRbacStore, Identity } from "./kubernetes-fake-rbac.js";

/**
 * The workload part of the local stand-in for the Kubernetes API server (kubernetes-fake-api.ts):
 * the documented REST shapes of the calls Sesame's Kubernetes actions make, authorized by the
 * stand-in's RBAC store like the rest of it:
 *   apps/v1 deployments, statefulsets, daemonsets: GET, PATCH (merge or strategic merge patch,
 *     both applied as a JSON merge patch, which is what they are for the fields Sesame touches)
 *   apps/v1 deployments/scale and statefulsets/scale: GET, PATCH (merge patch) → autoscaling/v1 Scale
 *   v1 pods: DELETE of one pod (200 with the pod, as the API server answers a graceful delete)
 * Errors are v1 Status objects (403 Forbidden, 404 NotFound, 415 UnsupportedMediaType, 422 Invalid).
 */

type Reply = [status: number, body: unknown];
type Failure = (code: number, reason: string, message: string, details?: Record<string, unknown>) => Reply;
type MergePatch = (target: unknown, patch: unknown) => unknown;

const APPS_PATH = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|statefulsets|daemonsets)\/([^/]+)(\/scale)?$/;
const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/;
const MERGE_TYPES = new Set(["application/merge-patch+json", "application/strategic-merge-patch+json"]);
const KINDS: Record<string, string> = {
  deployments: "Deployment",
  statefulsets: "StatefulSet",
  daemonsets: "DaemonSet",
  pods: "Pod",
};

export interface WorkloadObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; uid: string };
  spec: { replicas?: number; template?: { metadata?: { annotations?: Record<string, string> } } };
}

export class FakeWorkloads {
  /** `${resource}/${namespace}/${name}` → object, for deployments, statefulsets, daemonsets and pods. */
  readonly objects = new Map<string, WorkloadObject>();

  constructor(
    private readonly rbac: FakeRbacStore,
    private readonly failure: Failure,
    private readonly mergePatch: MergePatch,
  ) {}

  static key(resource: string, namespace: string, name: string): string {
    return `${resource}/${namespace}/${name}`;
  }

  add(resource: "deployments" | "statefulsets" | "daemonsets" | "pods", namespace: string, name: string, replicas = 1) {
    this.objects.set(FakeWorkloads.key(resource, namespace, name), {
      apiVersion: resource === "pods" ? "v1" : "apps/v1",
      kind: KINDS[resource]!,
      metadata: { name, namespace, uid: randomUUID() },
      spec: resource === "pods" ? {} : { ...(resource === "daemonsets" ? {} : { replicas }), template: {} },
    });
  }

  /** The reply to a workload request, or undefined when the path is not one of these. */
  route(identity: Identity, method: string, path: string, body: unknown, contentType: string): Reply | undefined {
    const apps = APPS_PATH.exec(path);
    if (apps !== null) {
      const [, namespace, resource, name, scale] = apps as unknown as [string, string, string, string, string?];
      return this.#apps(identity, method, { namespace, resource, name, scale: scale !== undefined }, body, contentType);
    }
    const pod = POD_PATH.exec(path);
    if (pod !== null && method === "DELETE") return this.#deletePod(identity, pod[1]!, pod[2]!);
    return undefined;
  }

  #forbidden(identity: Identity, verb: string, group: string, resource: string, namespace: string, name: string) {
    const qualified = group === "" ? resource : `${resource}.${group}`;
    return this.failure(
      403,
      "Forbidden",
      `${qualified} "${name}" is forbidden: User "${identity.user}" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${namespace}"`,
      { name, group, kind: resource },
    );
  }

  #apps(
    identity: Identity,
    method: string,
    at: { namespace: string; resource: string; name: string; scale: boolean },
    body: unknown,
    contentType: string,
  ): Reply {
    const verb = method === "PATCH" ? "patch" : method === "GET" ? "get" : undefined;
    if (verb === undefined) return this.failure(405, "MethodNotAllowed", `the server does not allow this method`);
    const resource = at.scale ? `${at.resource}/scale` : at.resource;
    if (at.scale && at.resource === "daemonsets")
      return this.failure(404, "NotFound", "the server could not find the requested resource");
    if (!this.rbac.authorize(identity, { verb, group: "apps", resource, namespace: at.namespace, name: at.name }))
      return this.#forbidden(identity, verb, "apps", resource, at.namespace, at.name);
    const key = FakeWorkloads.key(at.resource, at.namespace, at.name);
    const stored = this.objects.get(key);
    if (stored === undefined)
      return this.failure(404, "NotFound", `${at.resource}.apps "${at.name}" not found`, {
        name: at.name,
        group: "apps",
        kind: at.resource,
      });
    if (verb === "patch") {
      if (!MERGE_TYPES.has(contentType.split(";")[0]!.trim()))
        return this.failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format`);
      if (typeof body !== "object" || body === null || Array.isArray(body))
        return this.failure(400, "BadRequest", "a merge patch must be a JSON object");
      const target = at.scale ? { spec: { replicas: stored.spec.replicas } } : stored;
      const patched = this.mergePatch(target, body) as WorkloadObject;
      const replicas = patched.spec?.replicas;
      if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0))
        return this.failure(422, "Invalid", `Scale.autoscaling "${at.name}" is invalid: spec.replicas: Invalid value`);
      this.objects.set(key, at.scale ? { ...stored, spec: { ...stored.spec, replicas } } : patched);
    }
    const current = this.objects.get(key)!;
    if (!at.scale) return [200, current];
    return [
      200,
      {
        kind: "Scale",
        apiVersion: "autoscaling/v1",
        metadata: { name: at.name, namespace: at.namespace, uid: current.metadata.uid },
        spec: { replicas: current.spec.replicas },
        status: { replicas: current.spec.replicas },
      },
    ];
  }

  #deletePod(identity: Identity, namespace: string, name: string): Reply {
    if (!this.rbac.authorize(identity, { verb: "delete", group: "", resource: "pods", namespace, name }))
      return this.#forbidden(identity, "delete", "", "pods", namespace, name);
    const key = FakeWorkloads.key("pods", namespace, name);
    const pod = this.objects.get(key);
    if (pod === undefined) return this.failure(404, "NotFound", `pods "${name}" not found`, { name, kind: "pods" });
    this.objects.delete(key);
    return [200, pod];
  }
}
