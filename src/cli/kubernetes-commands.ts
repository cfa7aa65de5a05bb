import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { stringify } from "yaml";
import { DEFAULT_WEBHOOK_OPTIONS, webhookConfiguration } from "../admission/webhook-configuration.js";
import { loadPolicyFile } from "../config/policy-loader.js";
import { print } from "./context.js";

export function registerKubernetesCommands(program: Command): void {
  const kubernetes = program.command("kubernetes").description("Kubernetes guardrails (admission webhook)");
  kubernetes
    .command("webhook-config")
    .description("print the ValidatingWebhookConfiguration for the policy's guardrails (kubectl apply -f -)")
    .option("-f, --file <file>", "policy file (default: $SESAME_POLICY_FILE)")
    .option(
      "--namespace <namespace>",
      "namespace of Sesame's admission Service",
      DEFAULT_WEBHOOK_OPTIONS.serviceNamespace,
    )
    .option("--service <name>", "name of Sesame's admission Service", DEFAULT_WEBHOOK_OPTIONS.serviceName)
    .option("--failure-policy <policy>", "Fail (guarded operations refused while Sesame is down) or Ignore", "Fail")
    .option("--timeout <seconds>", "how long the API server waits for Sesame (1-30)", "5")
    .option(
      "--ca-bundle-file <file>",
      "PEM CA that signed the webhook's certificate (instead of cert-manager's injection)",
    )
    .action(
      async (options: {
        file?: string;
        namespace: string;
        service: string;
        failurePolicy: string;
        timeout: string;
        caBundleFile?: string;
      }) => {
        const path = options.file ?? process.env.SESAME_POLICY_FILE;
        if (!path) throw new Error("Name the policy file with --file or SESAME_POLICY_FILE.");
        if (options.failurePolicy !== "Fail" && options.failurePolicy !== "Ignore")
          throw new Error(`--failure-policy must be Fail or Ignore (got "${options.failurePolicy}").`);
        const timeoutSeconds = Number(options.timeout);
        if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 30)
          throw new Error(`--timeout must be a whole number of seconds from 1 to 30 (got "${options.timeout}").`);
        const file = await loadPolicyFile(path);
        const configuration = webhookConfiguration(file.kubernetes.guardrails, {
          ...DEFAULT_WEBHOOK_OPTIONS,
          serviceNamespace: options.namespace,
          serviceName: options.service,
          failurePolicy: options.failurePolicy,
          timeoutSeconds,
          certManagerCertificate: options.caBundleFile ? undefined : `${options.namespace}/${options.service}`,
          ...(options.caBundleFile ? { caBundle: (await readFile(options.caBundleFile)).toString("base64") } : {}),
        });
        print(stringify(configuration).trimEnd());
      },
    );
}
