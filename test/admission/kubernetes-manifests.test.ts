import { readdir, readFile } from "node:fs/promises";
import { Certificate, Issuer } from "@kubernetes-models/cert-manager/cert-manager.io/v1";
import { ValidatingWebhookConfiguration } from "kubernetes-models/admissionregistration.k8s.io/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import { Namespace, Service, ServiceAccount } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { DEFAULT_WEBHOOK_OPTIONS, webhookConfiguration } from "../../src/admission/webhook-configuration.js";
import { loadPolicyFile } from "../../src/config/policy-loader.js";

/**
 * manifest/kubernetes/ checked offline against the Kubernetes (and cert-manager) OpenAPI schemas
 * that the kubernetes-models validators carry: no API server can run here.
 */

const DIR = new URL("../../manifest/kubernetes/", import.meta.url);

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration": ValidatingWebhookConfiguration,
  "cert-manager.io/v1/Issuer": Issuer,
  "cert-manager.io/v1/Certificate": Certificate,
};

async function manifests(): Promise<{ file: string; object: Record<string, any> }[]> {
  const files = (await readdir(DIR)).filter((name) => name.endsWith(".yaml")).sort();
  const all = await Promise.all(
    files.map(async (file) =>
      parseAllDocuments(await readFile(new URL(file, DIR), "utf8")).map((doc) => {
        expect(doc.errors, file).toEqual([]);
        return { file, object: doc.toJS() as Record<string, any> };
      }),
    ),
  );
  return all.flat();
}

const find = (all: { object: Record<string, any> }[], kind: string, name: string) =>
  all.find(({ object }) => object.kind === kind && object.metadata?.name === name)?.object;

describe("manifest/kubernetes", () => {
  it("validates every object against its schema", async () => {
    const all = await manifests();
    expect(all.length).toBeGreaterThanOrEqual(9);
    for (const { file, object } of all) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `${file}: no validator for ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => new Model!(object).validate(), `${file}: ${object.kind} ${object.metadata?.name}`).not.toThrow();
    }
  });

  it("the validators do refuse a wrong manifest (the check above is not vacuous)", () => {
    const broken = new ValidatingWebhookConfiguration({
      metadata: { name: "x" },
      webhooks: [{ name: "x.sesame.dev", admissionReviewVersions: ["v1"], sideEffects: "Sometimes", clientConfig: {} }],
    } as never);
    expect(() => broken.validate()).toThrow(/sideEffects/);
  });

  it("holds the webhook configuration generated from examples/kubernetes-guardrails.yaml", async () => {
    const policy = await loadPolicyFile(new URL("../../examples/kubernetes-guardrails.yaml", import.meta.url).pathname);
    const all = await manifests();
    const checkedIn = find(all, "ValidatingWebhookConfiguration", "sesame-guardrails");
    expect(
      checkedIn,
      "regenerate it: npx sesame kubernetes webhook-config --file examples/kubernetes-guardrails.yaml",
    ).toEqual(webhookConfiguration(policy.kubernetes.guardrails));
    const webhook = checkedIn!.webhooks[0];
    expect(webhook).toMatchObject({ sideEffects: "NoneOnDryRun", failurePolicy: "Fail", timeoutSeconds: 5 });
  });

  it("generates a valid configuration with a CA bundle set by hand, and namespace labels as a selector", async () => {
    const policy = await loadPolicyFile(new URL("../../examples/kubernetes-guardrails.yaml", import.meta.url).pathname);
    const guardrail = { ...policy.kubernetes.guardrails[0]!, namespaceLabels: { env: "prod" } };
    const generated = webhookConfiguration([guardrail], {
      ...DEFAULT_WEBHOOK_OPTIONS,
      certManagerCertificate: undefined,
      caBundle: Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64"),
    }) as Record<string, any>;
    expect(() => new ValidatingWebhookConfiguration(generated).validate()).not.toThrow();
    expect(generated.metadata.annotations).toBeUndefined();
    const webhook = generated.webhooks[0];
    expect(webhook.clientConfig.caBundle).toEqual(expect.any(String));
    expect(webhook.namespaceSelector).toEqual({
      matchLabels: { env: "prod" },
      matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["prod"] }],
    });
  });

  it("wires the webhook Service to the web pods' HTTPS port and mounts the certificate", async () => {
    const all = await manifests();
    const webhook = find(all, "ValidatingWebhookConfiguration", "sesame-guardrails")!.webhooks[0];
    const service = find(all, "Service", webhook.clientConfig.service.name)!;
    expect(service.metadata.namespace).toBe(webhook.clientConfig.service.namespace);
    expect(service.spec.ports).toContainEqual(expect.objectContaining({ port: 443, targetPort: "admission" }));
    const web = find(all, "Deployment", "sesame-web")!;
    expect(web.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    const container = web.spec.template.spec.containers[0];
    expect(container.ports).toContainEqual({ name: "admission", containerPort: 8443 });
    expect(container.env).toContainEqual({ name: "SESAME_ADMISSION_PORT", value: "8443" });
    const certificate = find(all, "Certificate", "sesame-admission")!;
    expect(web.spec.template.spec.volumes).toContainEqual({
      name: "admission-tls",
      secret: { secretName: certificate.spec.secretName },
    });
    expect(certificate.spec.dnsNames).toContain(`${service.metadata.name}.${service.metadata.namespace}.svc`);
    const worker = find(all, "Deployment", "sesame-worker")!;
    expect(worker.spec.template.spec.containers[0].command).toEqual(["node", "dist/main.js", "--role", "worker"]);
  });
});
