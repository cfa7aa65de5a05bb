import { z } from "zod";
import { DNS_LABEL, DNS_SUBDOMAIN } from "../../domain/kubernetes-names.js";

/** Connector config and resource targets of the `kubernetes` connector (see README.md). */

/** An allowedNamespaces entry: an exact namespace, or a prefix followed by a single `*`. */
const NAMESPACE_PATTERN = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?|[a-z0-9-]*\*)$/;

export const NamespaceSchema = z
  .string()
  .max(63, "must be at most 63 characters")
  .regex(DNS_LABEL, "must be a Kubernetes namespace name (lower-case letters, digits and '-')");
export const RoleNameSchema = z
  .string()
  .max(253, "must be at most 253 characters")
  .regex(DNS_SUBDOMAIN, "must be a DNS subdomain name (lower-case letters, digits, '-' and '.')");

export const KubernetesConfigSchema = z
  .strictObject({
    server: z
      .url({ protocol: /^https$/, error: "must be the https:// URL of the Kubernetes API server" })
      .refine(
        (url) => new URL(url).username === "" && new URL(url).password === "",
        "must not contain credentials; give the token in `token`",
      )
      // The client appends API paths to the URL as is: `https://host:6443/` would request `//apis/...`.
      .transform((url) => url.replace(/\/+$/, ""))
      .describe("https:// URL of the API server, e.g. https://k8s.example.com:6443"),
    token: z.string().min(1).describe("Bearer token of Sesame's service account; a secret, so give it as { env: VAR }"),
    caData: z
      .string()
      .refine(
        (data) => Buffer.from(data, "base64").toString("utf8").includes("-----BEGIN CERTIFICATE-----"),
        "must be a base64-encoded PEM certificate (certificate-authority-data of a kubeconfig)",
      )
      .optional()
      .describe("CA that signed the API server's certificate, base64-encoded PEM; default: the system CAs"),
    insecureSkipTlsVerify: z
      .boolean()
      .default(false)
      .describe("Do not verify the API server's certificate (never in production)"),
    allowedNamespaces: z
      .array(
        z
          .string()
          .regex(NAMESPACE_PATTERN, "must be a namespace name, or a prefix ending in a single '*' (e.g. team-*)"),
      )
      .min(1, "must name at least one namespace")
      .describe("Namespaces where bindings may be created; `team-*` matches every namespace starting with team-"),
    allowClusterRoleBindings: z
      .boolean()
      .default(false)
      .describe("Allow clusterWide targets (ClusterRoleBindings grant access in every namespace)"),
    requestTimeoutSeconds: z.coerce.number().int().min(1).max(300).default(15),
  })
  .refine(
    (config) => !(config.caData !== undefined && config.insecureSkipTlsVerify),
    "give either caData or insecureSkipTlsVerify, not both",
  );
export type KubernetesConfig = z.infer<typeof KubernetesConfigSchema>;

export const KubernetesTargetSchema = z
  .strictObject({
    namespace: NamespaceSchema.optional().describe("Namespace of the RoleBinding; required unless clusterWide"),
    role: RoleNameSchema.optional().describe("A Role in the namespace to bind"),
    clusterRole: RoleNameSchema.optional().describe(
      "A ClusterRole to bind (in the namespace, or everywhere when clusterWide)",
    ),
    subjectKind: z
      .enum(["User", "Group"])
      .default("User")
      .describe("Whether the principal is a Kubernetes user or group"),
    clusterWide: z
      .boolean()
      .default(false)
      .describe("Create a ClusterRoleBinding instead (needs clusterRole and allowClusterRoleBindings)"),
  })
  .superRefine((target, context) => {
    const problem = (message: string, path: string) => context.addIssue({ code: "custom", message, path: [path] });
    if ((target.role === undefined) === (target.clusterRole === undefined))
      problem("give exactly one of role or clusterRole", "role");
    if (target.clusterWide && target.role !== undefined)
      problem("a clusterWide target needs clusterRole, not role", "role");
    if (target.clusterWide && target.namespace !== undefined)
      problem("a clusterWide target applies to every namespace; remove namespace", "namespace");
    if (!target.clusterWide && target.namespace === undefined)
      problem("is required (or set clusterWide: true)", "namespace");
  });
export type KubernetesTarget = z.infer<typeof KubernetesTargetSchema>;

export function namespaceAllowed(namespace: string, allowed: readonly string[]): boolean {
  return allowed.some((pattern) =>
    pattern.endsWith("*") ? namespace.startsWith(pattern.slice(0, -1)) : namespace === pattern,
  );
}

/**
 * Checks a principal before it becomes a binding subject; returns the problem or undefined.
 * `system:` names are Kubernetes' own identities (system:masters, system:authenticated, service
 * accounts): binding one would hand the role to far more than one person.
 */
export function principalProblem(principal: string): string | undefined {
  if (principal.trim() === "" || principal !== principal.trim()) return "must not be empty or start or end with spaces";
  if (principal.length > 253) return "must be at most 253 characters";
  if (/[\p{Cc}]/u.test(principal)) return "must not contain control characters";
  if (principal.toLowerCase().startsWith("system:")) return "must not be a Kubernetes system identity (system:...)";
  return undefined;
}
