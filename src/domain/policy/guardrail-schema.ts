import { z } from "zod";

/**
 * Kubernetes guardrails: operations the cluster refuses (through Sesame's validating admission
 * webhook) unless the person holds an active grant of a named Sesame resource. Admission only sees
 * CREATE, UPDATE, DELETE and CONNECT; reads (get, list, watch) stay with RBAC.
 */

const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "use lowercase letters, digits, '.', '_' or '-' (e.g. prod-exec)");

/** A DNS-1123 label, as Kubernetes names namespaces and resources. */
const KubernetesName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a Kubernetes name: lowercase letters, digits and '-'");

export const GuardrailOperationSchema = z.enum(["CREATE", "UPDATE", "DELETE", "CONNECT"]);
export type GuardrailOperation = z.infer<typeof GuardrailOperationSchema>;

export const GuardedOperationSchema = z
  .object({
    operations: z.array(GuardrailOperationSchema).min(1).describe("CREATE, UPDATE, DELETE and/or CONNECT"),
    apiGroup: z
      .string()
      .default("")
      .describe('API group of the resource: "" (core) for pods, "apps" for deployments, "rbac.authorization.k8s.io"…'),
    resource: KubernetesName.describe("Plural resource name, e.g. pods or deployments"),
    subResource: KubernetesName.optional().describe(
      "e.g. exec, attach or portforward (pods); none = the object itself",
    ),
  })
  .strict();
export type GuardedOperation = z.infer<typeof GuardedOperationSchema>;

export const GuardrailSchema = z
  .object({
    id: Id.describe("Names the guardrail in refusals, audit events and the generated webhook"),
    description: z.string().optional(),
    match: z.array(GuardedOperationSchema).min(1).describe("The operations this guardrail guards"),
    namespaces: z
      .array(KubernetesName)
      .min(1)
      .describe("Namespaces (by name) where these operations need a grant; the review carries only the name"),
    namespaceLabels: z
      .record(z.string(), z.string())
      .optional()
      .describe(
        "Only namespaces that also carry these labels: becomes the webhook's namespaceSelector (the API server matches labels)",
      ),
    requires: z
      .array(Id)
      .min(1)
      .describe("Sesame resources: an active grant of any of them lets the operation through"),
    exempt: z
      .object({
        users: z
          .array(z.string().min(1))
          .default([])
          .describe("Kubernetes usernames never refused, e.g. system:serviceaccount:sesame:sesame"),
        groups: z
          .array(z.string().min(1))
          .default([])
          .describe("Kubernetes groups never refused, e.g. system:serviceaccounts:kube-system"),
      })
      .strict()
      .default({ users: [], groups: [] })
      .describe("Nobody is exempt unless named here: service accounts and system: users included"),
  })
  .strict();
export type Guardrail = z.infer<typeof GuardrailSchema>;

export const KubernetesSectionSchema = z
  .object({
    guardrails: z.array(GuardrailSchema).default([]),
  })
  .strict()
  .describe("Kubernetes guardrails enforced by Sesame's validating admission webhook");
export type KubernetesSection = z.infer<typeof KubernetesSectionSchema>;
