import { createHash } from "node:crypto";
import type { V1ClusterRoleBinding, V1RoleBinding } from "@kubernetes/client-node";
import type { KubernetesTarget } from "./kubernetes-config.js";

/**
 * The binding one grant creates. Its name and grant label derive from the grant id alone, so a
 * retried grant or a revoke without receipt finds it again. The label decides whether a retried
 * grant adopts an existing binding; it does NOT decide revocation, because anyone with `patch` on
 * rolebindings (the grantee, when the granted role is `admin`) can remove it: revoke and
 * verifyRevoked go by the uid in the receipt and by what the binding grants (`revokesAs`).
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
  return target.clusterWide
    ? { kind: "ClusterRoleBinding", name, namespace: undefined }
    : { kind: "RoleBinding", name, namespace: target.namespace };
}

export function describeRef(ref: BindingRef): string {
  return ref.namespace === undefined
    ? `ClusterRoleBinding "${ref.name}"`
    : `RoleBinding "${ref.name}" in namespace "${ref.namespace}"`;
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

/** The role and subject one grant gives, as its receipt records them. */
export interface GrantedAccess {
  roleRef: { kind: string; name: string };
  subject: { kind: string; name: string };
}

/** True when `binding` binds `access.roleRef` and lists `access.subject` among its subjects, whatever its labels say. */
export function grantsAccess(binding: RbacBinding, access: GrantedAccess): boolean {
  return (
    binding.roleRef?.kind === access.roleRef.kind &&
    binding.roleRef?.name === access.roleRef.name &&
    (binding.subjects ?? []).some(
      (subject) => subject.kind === access.subject.kind && subject.name === access.subject.name,
    )
  );
}

/**
 * Whether revoke must delete `binding`, the object named `sesame-<grantKey>`. It is this grant's
 * when it is the very object the grant created (`receiptUid`, labels and subjects edited or not),
 * or when it still gives this grant's role to this grant's subject, or, for a grant without a
 * recorded uid (no receipt, or one written before uids were recorded), when it carries the grant's
 * label. Anything else under that name (another uid, another role or subject) is not Sesame's to delete.
 * verifyRevoked is false exactly while such a binding exists.
 */
export function isThisGrantsBinding(
  binding: RbacBinding,
  grantId: string,
  access: GrantedAccess,
  receiptUid: string | undefined,
): boolean {
  const uid = binding.metadata?.uid;
  if (receiptUid !== undefined && uid !== undefined && uid === receiptUid) return true;
  if (grantsAccess(binding, access)) return true;
  return receiptUid === undefined && isOwnBinding(binding, grantId);
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
