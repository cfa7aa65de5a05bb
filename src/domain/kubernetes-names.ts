/** The names Kubernetes accepts, as the policy's targets and the Kubernetes actions check them. */

/** RFC 1123 label: a namespace name (at most 63 characters). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: the name of most objects (pods, deployments, roles; at most 253 characters). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const isNamespaceName = (name: string): boolean => name.length <= 63 && DNS_LABEL.test(name);
export const isObjectName = (name: string): boolean => name.length <= 253 && DNS_SUBDOMAIN.test(name);
