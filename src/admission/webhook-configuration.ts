import type { Guardrail } from "../domain/policy/guardrail-schema.js";

/**
 * The ValidatingWebhookConfiguration for a policy's guardrails: one webhook per guardrail, so
 * each gets its own namespaceSelector (namespace names through the `kubernetes.io/metadata.name`
 * label every namespace carries, plus the guardrail's namespaceLabels) and its own path, and the
 * API server calls Sesame only for the operations and namespaces guarded.
 */

export interface WebhookConfigurationOptions {
  /** metadata.name of the configuration. */
  name: string;
  /** Where Sesame's admission Service lives. */
  serviceNamespace: string;
  serviceName: string;
  servicePort: number;
  /**
   * `Fail`: when Sesame cannot answer, guarded operations are refused (a guardrail that an outage
   * lifts is no guardrail). Unguarded operations never reach Sesame, whatever the policy.
   */
  failurePolicy: "Fail" | "Ignore";
  /** Sesame answers from memory in milliseconds; this bounds how long kubectl waits when it cannot. */
  timeoutSeconds: number;
  /** `namespace/certificate` whose CA cert-manager injects as caBundle; none when the bundle is set by hand. */
  certManagerCertificate?: string;
  /** The CA bundle (base64 PEM) to trust the webhook's certificate with, when not injected by cert-manager. */
  caBundle?: string;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookConfigurationOptions = {
  name: "sesame-guardrails",
  serviceNamespace: "sesame",
  serviceName: "sesame-admission",
  servicePort: 443,
  failurePolicy: "Fail",
  timeoutSeconds: 5,
  certManagerCertificate: "sesame/sesame-admission",
};

export function webhookConfiguration(
  guardrails: readonly Guardrail[],
  options: WebhookConfigurationOptions = DEFAULT_WEBHOOK_OPTIONS,
): Record<string, unknown> {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: {
      name: options.name,
      labels: { "app.kubernetes.io/name": "sesame", "app.kubernetes.io/component": "admission-webhook" },
      ...(options.certManagerCertificate
        ? { annotations: { "cert-manager.io/inject-ca-from": options.certManagerCertificate } }
        : {}),
    },
    webhooks: guardrails.map((guardrail) => ({
      name: `${guardrail.id}.guardrails.sesame.dev`,
      admissionReviewVersions: ["v1"],
      // Each review is audited, except dry runs.
      sideEffects: "NoneOnDryRun",
      failurePolicy: options.failurePolicy,
      timeoutSeconds: options.timeoutSeconds,
      matchPolicy: "Equivalent",
      clientConfig: {
        ...(options.caBundle ? { caBundle: options.caBundle } : {}),
        service: {
          namespace: options.serviceNamespace,
          name: options.serviceName,
          port: options.servicePort,
          path: `/k8s/admission/${guardrail.id}`,
        },
      },
      namespaceSelector: {
        ...(guardrail.namespaceLabels ? { matchLabels: guardrail.namespaceLabels } : {}),
        matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [...guardrail.namespaces] }],
      },
      rules: guardrail.match.map((rule) => ({
        operations: [...rule.operations],
        apiGroups: [rule.apiGroup],
        apiVersions: ["*"],
        resources: [rule.subResource ? `${rule.resource}/${rule.subResource}` : rule.resource],
        scope: "Namespaced",
      })),
    })),
  };
}
