import { randomUUID } from "node:crypto";

/**
 * The object store and RBAC authorizer behind the fake Kubernetes API server
 * (kubernetes-fake-api.ts). It follows the documented RBAC semantics closely enough to decide
 * "may this user list pods in this namespace?" from the bindings the connector creates:
 * ClusterRoleBindings apply everywhere, RoleBindings in their namespace, to a Role of that
 * namespace or a ClusterRole; subjects are users, groups or service accounts.
 */

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface Identity {
  user: string;
  groups: string[];
}

export interface AccessAttributes {
  verb: string;
  group: string;
  resource: string;
  namespace?: string | undefined;
  name?: string | undefined;
}

export interface StoredObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface Binding extends StoredObject {
  roleRef: { kind: string; name: string };
  subjects?: Subject[];
}

const RBAC_GROUP = "rbac.authorization.k8s.io";

export class FakeRbacStore {
  readonly namespaces = new Set<string>();
  readonly clusterRoles = new Map<string, PolicyRule[]>();
  /** `${namespace}/${name}` → rules. */
  readonly roles = new Map<string, PolicyRule[]>();
  /** RoleBindings by `${namespace}/${name}`, ClusterRoleBindings by `/${name}`. */
  readonly bindings = new Map<string, Binding>();
  #resourceVersion = 1;

  static key(namespace: string | undefined, name: string): string {
    return `${namespace ?? ""}/${name}`;
  }

  /** Stores a binding as the API server would (uid, resourceVersion); returns the stored object. */
  putBinding(object: Record<string, unknown>, namespace: string | undefined): Binding {
    const metadata = object.metadata as Partial<StoredObject["metadata"]> & { name: string };
    const stored = {
      ...object,
      metadata: {
        ...metadata,
        ...(namespace === undefined ? {} : { namespace }),
        uid: randomUUID(),
        resourceVersion: String(++this.#resourceVersion),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      },
    } as Binding;
    this.bindings.set(FakeRbacStore.key(namespace, metadata.name), stored);
    return stored;
  }

  /** Stores a new version of an existing binding as the API server would: same uid, next resourceVersion. */
  replaceBinding(key: string, object: Record<string, unknown>): Binding {
    const previous = this.bindings.get(key);
    if (previous === undefined) throw new Error(`no binding ${key}`);
    const metadata = object.metadata as Partial<StoredObject["metadata"]> | undefined;
    const stored = {
      ...object,
      metadata: {
        ...metadata,
        name: previous.metadata.name,
        ...(previous.metadata.namespace === undefined ? {} : { namespace: previous.metadata.namespace }),
        uid: previous.metadata.uid,
        resourceVersion: String(++this.#resourceVersion),
        creationTimestamp: previous.metadata.creationTimestamp,
      },
    } as Binding;
    this.bindings.set(key, stored);
    return stored;
  }

  /**
   * RBAC's escalation guard: `identity` may create or update a binding to `roleRef` in `namespace`
   * if it has `bind` on that role, or already holds every permission the role grants. (Simplified:
   * a role that does not exist can only be bound with `bind`.)
   */
  mayBind(identity: Identity, roleRef: { kind: string; name: string }, namespace: string | undefined): boolean {
    const resource = roleRef.kind === "Role" ? "roles" : "clusterroles";
    if (this.authorize(identity, { verb: "bind", group: RBAC_GROUP, resource, namespace, name: roleRef.name }))
      return true;
    const rules =
      roleRef.kind === "ClusterRole"
        ? this.clusterRoles.get(roleRef.name)
        : this.roles.get(`${namespace ?? ""}/${roleRef.name}`);
    if (rules === undefined) return false;
    return rules.every((rule) =>
      rule.apiGroups.every((group) =>
        rule.resources.every((resource) =>
          rule.verbs.every((verb) =>
            (rule.resourceNames?.length ? rule.resourceNames : [undefined]).every((name) =>
              this.authorize(identity, { verb, group, resource, namespace, name }),
            ),
          ),
        ),
      ),
    );
  }

  #matches(subject: Subject, identity: Identity): boolean {
    if (subject.kind === "User") return subject.name === identity.user;
    if (subject.kind === "Group") return identity.groups.includes(subject.name);
    return (
      subject.kind === "ServiceAccount" &&
      identity.user === `system:serviceaccount:${subject.namespace}:${subject.name}`
    );
  }

  #rulesFor(identity: Identity, namespace: string | undefined): PolicyRule[] {
    const rules: PolicyRule[] = [];
    for (const [key, binding] of this.bindings) {
      const bindingNamespace = key.slice(0, key.indexOf("/"));
      const applies = bindingNamespace === "" || bindingNamespace === namespace;
      if (!applies || !(binding.subjects ?? []).some((subject) => this.#matches(subject, identity))) continue;
      const role =
        binding.roleRef.kind === "ClusterRole"
          ? this.clusterRoles.get(binding.roleRef.name)
          : this.roles.get(`${bindingNamespace}/${binding.roleRef.name}`);
      rules.push(...(role ?? []));
    }
    return rules;
  }

  authorize(identity: Identity, attributes: AccessAttributes): boolean {
    const has = (list: string[], value: string) => list.includes("*") || list.includes(value);
    return this.#rulesFor(identity, attributes.namespace).some(
      (rule) =>
        has(rule.apiGroups, attributes.group) &&
        has(rule.resources, attributes.resource) &&
        has(rule.verbs, attributes.verb) &&
        (rule.resourceNames === undefined ||
          rule.resourceNames.length === 0 ||
          (attributes.name !== undefined && rule.resourceNames.includes(attributes.name))),
    );
  }
}
