import { type ActionOutcome, type ActionSpec, resultWithoutRows } from "../domain/actions/action-run.js";
import { isAppError } from "../domain/errors.js";
import type { PolicyFile } from "../domain/policy/policy-schema.js";
import type { ActionExecutor, ActionRunIdentity } from "../services/ports.js";
import { describeIssues } from "./config-errors.js";
import type { ConnectorSpec } from "./connector.js";
import { planKubernetesAction } from "./kubernetes/kubernetes-action-plan.js";
import { kubernetesConnectorSpec } from "./kubernetes/kubernetes-spec.js";
import { runMysqlAction } from "./mysql/mysql-action-executor.js";
import { mysqlConnectorSpec } from "./mysql/mysql-spec.js";
import { runPostgresAction } from "./postgres/postgres-action-executor.js";
import { postgresConnectorSpec } from "./postgres/postgres-spec.js";
import { redactSecrets } from "./redact.js";
import { resolveConnectorConfig } from "./registry.js";
import { runWebhookAction } from "./webhook/webhook-action-executor.js";
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
      const settings = settingsOf(kubernetesConnectorSpec, instance, connectorName, target, env);
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
          const settings = settingsOf(kubernetesConnectorSpec, instance, connectorName, target, env);
          if ("problem" in settings) return fail(settings.problem);
          // Loaded on first use: the Kubernetes client costs about a second and tens of MB.
          const loaded = await import("./kubernetes/kubernetes-action-executor.js").catch(() => undefined);
          if (!loaded) return fail("Sesame could not load its Kubernetes client; nothing ran");
          return loaded.runKubernetesAction({ ...settings, spec, startedAt });
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
  result: resultWithoutRows({ error }),
});

/**
 * A connector's config, read from the policy and the environment as the connector itself reads it
 * (its spec's secret fields and schemas), and the resource's target; or what is wrong, with no
 * secret in it. Nothing has been sent when this fails.
 */
function settingsOf<Config, Target>(
  spec: ConnectorSpec<Config, Target>,
  instance: ConnectorInstance,
  connectorName: string,
  target: unknown,
  env: Record<string, string | undefined>,
): { config: Config; target: Target } | { problem: string } {
  let resolved: ReturnType<typeof resolveConnectorConfig>;
  try {
    resolved = resolveConnectorConfig(connectorName, spec, instance.config, env);
  } catch (error) {
    // It names the environment variable that is not set, never a value.
    return { problem: isAppError(error) ? error.userMessage : `connector ${connectorName} cannot be configured` };
  }
  const config = spec.configSchema.safeParse(resolved.config);
  if (!config.success) {
    const problems = describeIssues(config.error, `connector "${connectorName}" config`);
    return { problem: redactSecrets(problems.join("; "), resolved.secrets) };
  }
  const parsedTarget = spec.targetSchema.safeParse(target);
  if (!parsedTarget.success) return { problem: `the resource's ${spec.type} target is not valid` };
  return { config: config.data, target: parsedTarget.data };
}

/** SQL as the connector's login (the executor login) `SET ROLE`d to the resource's role. */
function runSql(
  instance: ConnectorInstance,
  connectorName: string,
  target: unknown,
  spec: ActionSpec,
  env: Record<string, string | undefined>,
): Promise<ActionOutcome> | ActionOutcome {
  if (instance.type === "mysql") {
    const settings = settingsOf(mysqlConnectorSpec, instance, connectorName, target, env);
    if ("problem" in settings) return fail(`${settings.problem}; nothing ran`);
    if (settings.target.mode !== "role")
      return fail(`SQL actions on MariaDB/MySQL need a role target (mode: role) to SET ROLE to`);
    return runMysqlAction({ config: settings.config, role: settings.target.role, spec });
  }
  const settings = settingsOf(postgresConnectorSpec, instance, connectorName, target, env);
  if ("problem" in settings) return fail(`${settings.problem}; nothing ran`);
  if (settings.target.mode !== "membership")
    return fail(`SQL actions need a membership target with a role to SET ROLE to`);
  return runPostgresAction({
    url: settings.config.url,
    role: settings.target.role,
    spec,
    connectTimeoutMs: settings.config.connectTimeoutSeconds * 1000,
  });
}

/** A command, posted once to the webhook connector's runner. */
function runCommand(
  instance: ConnectorInstance,
  connectorName: string,
  target: unknown,
  spec: ActionSpec,
  run: ActionRunIdentity,
  env: Record<string, string | undefined>,
): Promise<ActionOutcome> | ActionOutcome {
  const settings = settingsOf(webhookConnectorSpec, instance, connectorName, target, env);
  if ("problem" in settings) return fail(`${settings.problem}; nothing ran`);
  return runWebhookAction({
    config: settings.config,
    target: settings.target,
    run: { ...run, text: spec.text, sha256: spec.sha256, timeoutMs: spec.limits.statementTimeoutMs },
  });
}
