import { createHash } from "node:crypto";
import type { V1ClusterRoleBinding, V1RoleBinding } from "@kubernetes/client-node";
import type { KubernetesTarget } from "./kubernetes-config.js";

/**
 * The binding one grant creates. Its name and grant label derive from the grant id alone, so a
 * retried grant or a revoke without receipt finds it again; the label is also Sesame's proof of
 * ownership: a binding without it is never touched.
 */

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const GRANT_ID_LABEL = "sesame.dev/grant-id";
export const GRANT_ID_ANNOTATION = "sesame.dev/grant-id";
export const EXPIRES_AT_ANNOTATION = "sesame.dev/expires-at";
const MANAGED_BY = "sesame";

export type RbacBinding = V1RoleBinding | V1ClusterRoleBinding;

export interface BindingRef {
  kind: "RoleBinding" | "ClusterRoleBinding";
  name: string;
  /** Undefined for a ClusterRoleBinding. */
  namespace: string | undefined;
}

/** Grant ids are UUIDs; anything else (too long, upper case) is replaced by a stable hash. */
const LABEL_SAFE_ID = /^[a-z0-9]([-a-z0-9]{0,54}[a-z0-9])?$/;

export function grantKey(grantId: string): string {
  return LABEL_SAFE_ID.test(grantId) ? grantId : `h-${createHash("sha256").update(grantId).digest("hex").slice(0, 40)}`;
}

export function bindingRef(grantId: string, target: KubernetesTarget): BindingRef {
  const name = `sesame-${grantKey(grantId)}`;
  return target.clusterWide ? { kind: "ClusterRoleBinding", name, namespace: undefined } : { kind: "RoleBinding", name, namespace: target.namespace };
}

export function describeRef(ref: BindingRef): string {
  return ref.namespace === undefined ? `ClusterRoleBinding "${ref.name}"` : `RoleBinding "${ref.name}" in namespace "${ref.namespace}"`;
}

export function roleRefOf(target: KubernetesTarget): { apiGroup: string; kind: "Role" | "ClusterRole"; name: string } {
  return target.role !== undefined
    ? { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: target.role }
    : { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: target.clusterRole ?? "" };
}

export interface BindingGrant {
  grantId: string;
  principal: string;
  expiresAt: Date;
}

export function buildBinding(ref: BindingRef, target: KubernetesTarget, grant: BindingGrant): RbacBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: ref.kind,
    metadata: {
      name: ref.name,
      ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [GRANT_ID_LABEL]: grantKey(grant.grantId) },
      annotations: { [GRANT_ID_ANNOTATION]: grant.grantId, [EXPIRES_AT_ANNOTATION]: grant.expiresAt.toISOString() },
    },
    roleRef: roleRefOf(target),
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: target.subjectKind, name: grant.principal }],
  };
}

/** True when Sesame created `binding` for this grant. */
export function isOwnBinding(binding: RbacBinding, grantId: string): boolean {
  const labels = binding.metadata?.labels ?? {};
  return labels[MANAGED_BY_LABEL] === MANAGED_BY && labels[GRANT_ID_LABEL] === grantKey(grantId);
}

/** True when `existing` binds the same role to the same single subject as `wanted`. */
export function bindsSame(existing: RbacBinding, wanted: RbacBinding): boolean {
  const subjects = existing.subjects ?? [];
  const subject = subjects[0];
  const wantedSubject = wanted.subjects?.[0];
  return (
    existing.roleRef.kind === wanted.roleRef.kind &&
    existing.roleRef.name === wanted.roleRef.name &&
    subjects.length === 1 &&
    subject?.kind === wantedSubject?.kind &&
    subject?.name === wantedSubject?.name
  );
}
