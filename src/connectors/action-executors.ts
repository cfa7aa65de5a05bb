import type { ActionSpec } from "../domain/actions/action-run.js";
import { isAppError } from "../domain/errors.js";
import type { PolicyFile } from "../domain/policy/policy-schema.js";
import type { ActionExecutor, ActionRunIdentity } from "../services/ports.js";
import { describeIssues } from "./config-errors.js";
import { planKubernetesAction } from "./kubernetes/kubernetes-action-plan.js";
import {
  type KubernetesConfig,
  KubernetesConfigSchema,
  type KubernetesTarget,
  KubernetesTargetSchema,
} from "./kubernetes/kubernetes-config.js";
import { kubernetesConnectorSpec } from "./kubernetes/kubernetes-spec.js";
import { runMysqlAction } from "./mysql/mysql-action-executor.js";
import { MysqlConfigSchema, MysqlTargetSchema } from "./mysql/mysql-config.js";
import { type ActionOutcome, runPostgresAction } from "./postgres/postgres-action-executor.js";
import { PostgresConfigSchema, PostgresTargetSchema } from "./postgres/postgres-config.js";
import { redactSecrets } from "./redact.js";
import { resolveConnectorConfig } from "./registry.js";
import { runWebhookAction } from "./webhook/webhook-action-executor.js";
import { WebhookTargetSchema } from "./webhook/webhook-config.js";
import { webhookConnectorSpec } from "./webhook/webhook-spec.js";

/**
 * Runs approved actions on the targets that support them, by the resource's connector type: SQL
 * on `postgres` and `mysql` (role mode), Kubernetes operations on `kubernetes`, commands through
 * `webhook` to the user's runner. Config values are read from the environment when a run starts,
 * as the connectors read them.
 */
type ConnectorInstance = PolicyFile["connectors"][string];

export function createActionExecutor(policyFile: PolicyFile, env: Record<string, string | undefined>): ActionExecutor {
  return {
    admit({ connectorName, target, spec }) {
      const instance = policyFile.connectors[connectorName];
      if (instance?.type !== "kubernetes") return null;
      const settings = kubernetesSettings(instance, connectorName, target, env);
      if ("problem" in settings) return settings.problem;
      const planned = planKubernetesAction(settings.config, settings.target, spec.text);
      return "problem" in planned ? planned.problem : null;
    },
    async run({ connectorName, target, spec, startedAt, run }) {
      const instance = policyFile.connectors[connectorName];
      switch (instance?.type) {
        case "postgres":
        case "mysql":
          return runSql(instance, connectorName, target, spec, env);
        case "kubernetes": {
          const settings = kubernetesSettings(instance, connectorName, target, env);
          if ("problem" in settings) return fail(settings.problem);
          // Loaded on first use: the Kubernetes client costs about a second and tens of MB.
          const loaded = await import("./kubernetes/kubernetes-action-executor.js").catch(() => undefined);
          if (!loaded) return fail("Sesame could not load its Kubernetes client; nothing ran");
          return loaded.runKubernetesAction({ ...settings, spec, startedAt: startedAt ?? new Date() });
        }
        case "webhook":
          return runCommand(instance, connectorName, target, spec, run, env);
        default:
          return fail(`connector ${connectorName} cannot run actions`);
      }
    },
  };
}

const fail = (error: string): ActionOutcome => ({
  outcome: "failed",
  result: { rowCount: null, columns: [], rows: [], truncated: false, error },
});

/** SQL as the connector's login (the executor login) `SET ROLE`d to the resource's role. */
function runSql(
  instance: ConnectorInstance,
  connectorName: string,
  target: unknown,
  spec: ActionSpec,
  env: Record<string, string | undefined>,
): Promise<ActionOutcome> | ActionOutcome {
  const raw = instance.config.url;
  const url = typeof raw === "object" && raw !== null && "env" in raw ? env[raw.env] : raw;
  if (instance.type === "mysql") {
    const config = MysqlConfigSchema.safeParse({ ...instance.config, url });
    const parsedTarget = MysqlTargetSchema.safeParse(target);
    if (!config.success) return fail(`connector ${connectorName} has no usable url`);
    if (!parsedTarget.success || parsedTarget.data.mode !== "role")
      return fail(`SQL actions on MariaDB/MySQL need a role target (mode: role) to SET ROLE to`);
    return runMysqlAction({ config: config.data, role: parsedTarget.data.role, spec });
  }
  const config = PostgresConfigSchema.safeParse({ ...instance.config, url });
  const parsedTarget = PostgresTargetSchema.safeParse(target);
  if (!config.success) return fail(`connector ${connectorName} has no usable url`);
  if (!parsedTarget.success || parsedTarget.data.mode !== "membership")
    return fail(`SQL actions need a membership target with a role to SET ROLE to`);
  return runPostgresAction({
    url: config.data.url,
    role: parsedTarget.data.role,
    spec,
    connectTimeoutMs: config.data.connectTimeoutSeconds * 1000,
  });
}

/** The connector's config (token from the environment) and the resource's target, or what is wrong with them. */
function kubernetesSettings(
  instance: ConnectorInstance,
  connectorName: string,
  target: unknown,
  env: Record<string, string | undefined>,
): { config: KubernetesConfig; target: KubernetesTarget } | { problem: string } {
  let resolved: ReturnType<typeof resolveConnectorConfig>;
  try {
    resolved = resolveConnectorConfig(connectorName, kubernetesConnectorSpec, instance.config, env);
  } catch (error) {
    // It names the environment variable that is not set, never a value.
    return { problem: isAppError(error) ? error.userMessage : `connector ${connectorName} cannot be configured` };
  }
  const config = KubernetesConfigSchema.safeParse(resolved.config);
  if (!config.success)
    return { problem: `connector ${connectorName} has an unusable config (the policy loader says why)` };
  const parsedTarget = KubernetesTargetSchema.safeParse(target);
  if (!parsedTarget.success) return { problem: `the resource's Kubernetes target is not valid` };
  return { config: config.data, target: parsedTarget.data };
}

/** A command, posted once to the webhook connector's runner; its config is read as the connector reads it. */
function runCommand(
  instance: ConnectorInstance,
  connectorName: string,
  target: unknown,
  spec: ActionSpec,
  run: ActionRunIdentity,
  env: Record<string, string | undefined>,
): Promise<ActionOutcome> | ActionOutcome {
  let resolved: ReturnType<typeof resolveConnectorConfig>;
  try {
    resolved = resolveConnectorConfig(connectorName, webhookConnectorSpec, instance.config, env);
  } catch (error) {
    // Names the unset variable, never a value; nothing was sent.
    return fail(
      `${isAppError(error) ? error.userMessage : `connector ${connectorName} cannot be configured`}; nothing ran`,
    );
  }
  const config = webhookConnectorSpec.configSchema.safeParse(resolved.config);
  if (!config.success) {
    const problems = describeIssues(config.error, `connector "${connectorName}" config`);
    return fail(redactSecrets(`${problems.join("; ")}; nothing ran`, resolved.secrets));
  }
  const parsedTarget = WebhookTargetSchema.safeParse(target);
  if (!parsedTarget.success) return fail(`the resource's target is not a JSON object; nothing ran`);
  return runWebhookAction({
    config: config.data,
    target: parsedTarget.data,
    run: { ...run, text: spec.text, sha256: spec.sha256, timeoutMs: spec.limits.statementTimeoutMs },
  });
}
