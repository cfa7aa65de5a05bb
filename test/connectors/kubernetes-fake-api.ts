import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { FakeRbacStore, type Identity } from "./kubernetes-fake-rbac.js";
import { FakeWorkloads } from "./kubernetes-fake-workloads.js";

/**
 * A LOCAL STAND-IN FOR THE KUBERNETES API SERVER, not Kubernetes itself: no real API server can
 * run on this machine (none in Debian or npm; k3s and kind need Docker; see FACTS.md). It speaks
 * the documented REST shapes of the calls the connector and the tests make, over HTTPS with a
 * bearer token, so the real @kubernetes/client-node talks to it unchanged:
 *   rbac.authorization.k8s.io/v1 rolebindings (namespaced) and clusterrolebindings:
 *     POST and PUT (with RBAC's escalation check), GET, LIST, DELETE (with uid preconditions),
 *     PATCH as JSON patch (RFC 6902) or merge patch (RFC 7386; a strategic merge patch is treated as one);
 *     roleRef is immutable, as in Kubernetes
 *   authorization.k8s.io/v1 selfsubjectaccessreviews: POST
 *   v1 pods: LIST, authorized from the stored bindings, which is how a test "logs in as the user"
 *   the workloads and pods JIT actions change (kubernetes-fake-workloads.ts)
 * Errors are v1 Status objects (401 Unauthorized, 403 Forbidden, 404 NotFound, 409 AlreadyExists/Conflict).
 */

const RBAC = "rbac.authorization.k8s.io";
const BINDING_PATH =
  /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/(?:namespaces\/([^/]+)\/(rolebindings)|(clusterrolebindings))(?:\/([^/]+))?$/;
const SSAR_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
const PODS_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/;

export interface FakeRequest {
  method: string;
  path: string;
  /** The parsed JSON body, if there was one. */
  body?: unknown;
  contentType?: string;
}

type Reply = [status: number, body: unknown];

export const failure = (code: number, reason: string, message: string, details?: Record<string, unknown>): Reply => [
  code,
  {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  },
];

/**
 * How far a held request gets before the test cuts it: `unanswered` is never applied nor answered;
 * `mid-answer` is applied, and its status line and the first half of its body are sent.
 */
export type HoldStage = "unanswered" | "mid-answer";

interface Hold {
  method: string;
  stage: HoldStage;
  reached(): void;
}

export class FakeKubernetesApi {
  readonly store = new FakeRbacStore();
  readonly workloads = new FakeWorkloads(this.store, failure, mergePatch);
  /** Every request received, in order (also the unauthenticated ones). */
  readonly requests: FakeRequest[] = [];
  readonly #tokens = new Map<string, Identity>();
  readonly #server: Server;
  #hold: Hold | undefined;
  readonly #held = new Set<IncomingMessage>();

  constructor(tls: { key: string; cert: string }) {
    this.#server = createServer(tls, (request, response) => void this.#handle(request, response));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `https://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  addToken(token: string, identity: Identity): void {
    this.#tokens.set(token, identity);
  }

  /** Holds the next request with `method` at `stage`; resolves once it is held. */
  holdNext(method: string, stage: HoldStage): Promise<void> {
    return new Promise((reached) => {
      this.#hold = { method, stage, reached };
    });
  }

  /**
   * Closes the connection of every held request as the kernel does when the API server process
   * dies: what was sent (half an answer) still arrives, then the connection ends.
   */
  cutHeld(): void {
    for (const request of this.#held) request.socket.end();
    this.#held.clear();
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "https://fake");
    const record: FakeRequest = {
      method: request.method ?? "",
      path: url.pathname,
      ...(request.headers["content-type"] === undefined ? {} : { contentType: request.headers["content-type"] }),
    };
    this.requests.push(record);
    let text = "";
    for await (const chunk of request) text += String(chunk);
    if (text !== "") record.body = JSON.parse(text) as unknown;
    const hold = this.#hold?.method === record.method ? this.#hold : undefined;
    if (hold?.stage === "unanswered") return this.#keep(request, hold);
    const [status, body] = this.#route(request, url.pathname, record.body as Record<string, unknown> | undefined);
    const answer = JSON.stringify(body);
    response.writeHead(status, { "content-type": "application/json" });
    if (hold === undefined) return void response.end(answer);
    response.write(answer.slice(0, Math.floor(answer.length / 2)));
    this.#keep(request, hold);
  }

  #keep(request: IncomingMessage, hold: Hold): void {
    this.#hold = undefined;
    this.#held.add(request);
    hold.reached();
  }

  #route(request: IncomingMessage, path: string, body: Record<string, unknown> | undefined): Reply {
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
    const identity = bearer === undefined ? undefined : this.#tokens.get(bearer);
    if (identity === undefined) return failure(401, "Unauthorized", "Unauthorized");
    const method = request.method ?? "GET";
    const binding = BINDING_PATH.exec(path);
    if (binding !== null) {
      const [, namespace, namespaced, , name] = binding;
      return this.#bindings(
        identity,
        method,
        namespaced === undefined ? "clusterrolebindings" : "rolebindings",
        namespace,
        name,
        body,
        request.headers["content-type"] ?? "",
      );
    }
    if (path === SSAR_PATH && method === "POST") {
      const attributes =
        (body?.spec as { resourceAttributes?: Record<string, string> } | undefined)?.resourceAttributes ?? {};
      const allowed = this.store.authorize(identity, {
        verb: attributes.verb ?? "",
        group: attributes.group ?? "",
        resource: attributes.resource ?? "",
        namespace: attributes.namespace,
        name: attributes.name,
      });
      return [201, { ...body, metadata: {}, status: { allowed } }];
    }
    const workload = this.workloads.route(identity, method, path, body, request.headers["content-type"] ?? "");
    if (workload !== undefined) return workload;
    const pods = PODS_PATH.exec(path);
    if (pods !== null && method === "GET") {
      const namespace = pods[1]!;
      if (!this.store.authorize(identity, { verb: "list", group: "", resource: "pods", namespace })) {
        return failure(
          403,
          "Forbidden",
          `pods is forbidden: User "${identity.user}" cannot list resource "pods" in API group "" in the namespace "${namespace}"`,
          { kind: "pods" },
        );
      }
      return [200, { kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "1" }, items: [] }];
    }
    return failure(404, "NotFound", "the server could not find the requested resource");
  }

  #bindings(
    identity: Identity,
    method: string,
    resource: string,
    namespace: string | undefined,
    name: string | undefined,
    body: Record<string, unknown> | undefined,
    contentType: string,
  ): Reply {
    const verb =
      ({ POST: "create", DELETE: "delete", PATCH: "patch", PUT: "update" } as Record<string, string>)[method] ??
      (name === undefined ? "list" : "get");
    const scope = namespace === undefined ? "" : ` in the namespace "${namespace}"`;
    if (!this.store.authorize(identity, { verb, group: RBAC, resource, namespace, name })) {
      return failure(
        403,
        "Forbidden",
        `${resource}.${RBAC}${name === undefined ? "" : ` "${name}"`} is forbidden: User "${identity.user}" cannot ${verb} resource "${resource}" in API group "${RBAC}"${scope}`,
        { group: RBAC, kind: resource },
      );
    }
    if (namespace !== undefined && !this.store.namespaces.has(namespace))
      return failure(404, "NotFound", `namespaces "${namespace}" not found`, { name: namespace, kind: "namespaces" });
    if (verb === "list") {
      const items = [...this.store.bindings]
        .filter(([key]) => key.startsWith(`${namespace ?? ""}/`))
        .map(([, stored]) => stored);
      return [
        200,
        {
          kind: resource === "rolebindings" ? "RoleBindingList" : "ClusterRoleBindingList",
          apiVersion: `${RBAC}/v1`,
          metadata: { resourceVersion: "1" },
          items,
        },
      ];
    }
    if (verb === "create") return this.#create(identity, resource, namespace, body ?? {});
    const key = FakeRbacStore.key(namespace, name ?? "");
    const existing = this.store.bindings.get(key);
    if (existing === undefined)
      return failure(404, "NotFound", `${resource}.${RBAC} "${name}" not found`, { name, group: RBAC, kind: resource });
    if (verb === "get") return [200, existing];
    if (verb === "patch" || verb === "update")
      return this.#update(
        identity,
        resource,
        namespace,
        key,
        verb === "update" ? body : applyPatch(existing, body, contentType),
      );
    const precondition = (body?.preconditions as { uid?: string } | undefined)?.uid;
    if (precondition !== undefined && precondition !== existing.metadata.uid) {
      return failure(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${resource}.${RBAC} "${name}": Precondition failed: UID in precondition: ${precondition}, UID in object meta: ${existing.metadata.uid}`,
        { name, group: RBAC, kind: resource },
      );
    }
    this.store.bindings.delete(key);
    return [
      200,
      {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Success",
        details: { name, group: RBAC, kind: resource, uid: existing.metadata.uid },
      },
    ];
  }

  #create(identity: Identity, resource: string, namespace: string | undefined, body: Record<string, unknown>): Reply {
    const name = (body.metadata as { name?: string } | undefined)?.name ?? "";
    const roleRef = body.roleRef as { kind: string; name: string };
    if (this.store.bindings.has(FakeRbacStore.key(namespace, name))) {
      return failure(409, "AlreadyExists", `${resource}.${RBAC} "${name}" already exists`, {
        name,
        group: RBAC,
        kind: resource,
      });
    }
    if (!this.store.mayBind(identity, roleRef, namespace)) {
      return failure(
        403,
        "Forbidden",
        `${resource}.${RBAC} "${name}" is forbidden: user "${identity.user}" (groups=${JSON.stringify(identity.groups)}) is attempting to grant RBAC permissions not currently held`,
        { name, group: RBAC, kind: resource },
      );
    }
    return [201, this.store.putBinding(body, namespace)];
  }

  /** PUT, or PATCH once applied: same uid, roleRef unchanged, and RBAC's escalation check on the result. */
  #update(
    identity: Identity,
    resource: string,
    namespace: string | undefined,
    key: string,
    updated: Record<string, unknown> | Reply | undefined,
  ): Reply {
    if (Array.isArray(updated)) return updated;
    const existing = this.store.bindings.get(key)!;
    const { name } = existing.metadata;
    if (updated === undefined || typeof updated.roleRef !== "object" || updated.roleRef === null) {
      return failure(422, "Invalid", `${resource}.${RBAC} "${name}" is invalid: roleRef: Required value`, {
        name,
        group: RBAC,
        kind: resource,
      });
    }
    const metadata = (updated.metadata ?? {}) as { name?: string; uid?: string; resourceVersion?: string };
    if (metadata.name !== undefined && metadata.name !== name)
      return failure(
        400,
        "BadRequest",
        `the name of the object (${metadata.name}) does not match the name on the URL (${name})`,
      );
    if (
      (metadata.uid !== undefined && metadata.uid !== existing.metadata.uid) ||
      (metadata.resourceVersion !== undefined && metadata.resourceVersion !== existing.metadata.resourceVersion)
    ) {
      return failure(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${resource}.${RBAC} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: RBAC, kind: resource },
      );
    }
    const roleRef = updated.roleRef as { kind: string; name: string };
    if (roleRef.kind !== existing.roleRef.kind || roleRef.name !== existing.roleRef.name) {
      return failure(
        422,
        "Invalid",
        `${resource}.${RBAC} "${name}" is invalid: roleRef: Invalid value: cannot change roleRef`,
        { name, group: RBAC, kind: resource },
      );
    }
    if (!this.store.mayBind(identity, roleRef, namespace)) {
      return failure(
        403,
        "Forbidden",
        `${resource}.${RBAC} "${name}" is forbidden: user "${identity.user}" (groups=${JSON.stringify(identity.groups)}) is attempting to grant RBAC permissions not currently held`,
        { name, group: RBAC, kind: resource },
      );
    }
    return [200, this.store.replaceBinding(key, updated)];
  }
}

/** The object after a JSON patch or a merge patch, or the Status reply refusing the patch. */
function applyPatch(existing: object, patch: unknown, contentType: string): Record<string, unknown> | Reply {
  const copy = structuredClone(existing) as Record<string, unknown>;
  const mediaType = contentType.split(";")[0]!.trim();
  if (mediaType === "application/merge-patch+json" || mediaType === "application/strategic-merge-patch+json") {
    if (typeof patch !== "object" || patch === null || Array.isArray(patch))
      return failure(400, "BadRequest", "a merge patch must be a JSON object");
    return mergePatch(copy, patch) as Record<string, unknown>;
  }
  if (mediaType !== "application/json-patch+json")
    return failure(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`,
    );
  if (!Array.isArray(patch)) return failure(400, "BadRequest", "json patch must be an array of operations");
  for (const operation of patch as { op: string; path: string; value?: unknown }[]) {
    const tokens = operation.path
      .split("/")
      .slice(1)
      .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = tokens.pop();
    let parent: unknown = copy;
    for (const token of tokens) parent = (parent as Record<string, unknown> | undefined)?.[token];
    if (typeof parent !== "object" || parent === null || last === undefined)
      return failure(
        422,
        "Invalid",
        `the server rejected our request due to an error in our request: path ${operation.path} not found`,
      );
    const container = parent as Record<string, unknown> & unknown[];
    const index = Array.isArray(container) ? (last === "-" ? container.length : Number(last)) : undefined;
    const present = index === undefined ? Object.hasOwn(container, last) : index < container.length;
    if ((operation.op === "remove" || operation.op === "replace") && !present)
      return failure(
        422,
        "Invalid",
        `the server rejected our request due to an error in our request: unable to ${operation.op} nonexistent key: ${last}`,
      );
    if (operation.op === "remove") {
      if (index === undefined) delete container[last];
      else container.splice(index, 1);
    } else if (operation.op === "add" && index !== undefined) {
      container.splice(index, 0, operation.value);
    } else if (operation.op === "add" || operation.op === "replace") {
      if (index === undefined) container[last] = operation.value;
      else container[index] = operation.value;
    } else {
      return failure(
        422,
        "Invalid",
        `the server rejected our request due to an error in our request: unsupported operation ${operation.op}`,
      );
    }
  }
  return copy;
}

/** RFC 7386: objects merge, null removes a key, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}
