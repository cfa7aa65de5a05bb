import { randomUUID } from "node:crypto";
import type { PolicyLoadOptions } from "../config/policy-loader.js";
import { entitlementKey } from "../domain/entitlement.js";
import { AppError, isAppError } from "../domain/errors.js";
import type { PolicyFile } from "../domain/policy/policy-schema.js";
import type { ConnectorProvider } from "../services/ports.js";
import type { Connector } from "./connector.js";
import { createConnector, getDefinition, resolveConnectorConfig, validateTarget } from "./registry.js";

const problemsOf = (error: unknown): string[] => {
  if (!isAppError(error)) throw error;
  const listed = error.details?.problems;
  return Array.isArray(listed) ? listed.map(String) : [error.userMessage];
};

/** Lets the policy loader check connector configs and targets with each connector's own schema. */
export function connectorValidators(env: Record<string, string | undefined>): PolicyLoadOptions {
  return {
    validateConnector(name, type, config) {
      try {
        const definition = getDefinition(type);
        const resolved = resolveConnectorConfig(name, definition, (config ?? {}) as Record<string, unknown>, env);
        const parsed = definition.configSchema.safeParse(resolved.config);
        return parsed.success
          ? []
          : parsed.error.issues.map((issue) => `${issue.path.join(".") || "config"}: ${issue.message}`);
      } catch (error) {
        return problemsOf(error);
      }
    },
    validateTarget(type, target) {
      try {
        validateTarget(type, target);
        return [];
      } catch (error) {
        return problemsOf(error);
      }
    },
  };
}

export interface ConnectorSet extends ConnectorProvider {
  names(): string[];
  close(): Promise<void>;
}

/** Builds one connector per entry of the policy file's `connectors`, with secrets from the environment. */
export async function createConnectorSet(
  policy: PolicyFile,
  env: Record<string, string | undefined>,
): Promise<ConnectorSet> {
  const connectors = new Map<string, Connector>();
  const types = new Map(Object.entries(policy.connectors).map(([name, instance]) => [name, instance.type]));
  for (const [name, instance] of Object.entries(policy.connectors)) {
    const definition = getDefinition(instance.type);
    const { config } = resolveConnectorConfig(name, definition, instance.config, env);
    connectors.set(name, await createConnector({ name, type: instance.type, config }));
  }
  return {
    get(name) {
      const connector = connectors.get(name);
      if (!connector)
        throw new AppError(
          "config_invalid",
          `No connector named "${name}" is configured; add it under connectors in the policy file.`,
        );
      return connector;
    },
    entitlementKeyFor(name, target, principal) {
      const type = types.get(name);
      if (type === undefined)
        throw new AppError(
          "config_invalid",
          `No connector named "${name}" is configured; add it under connectors in the policy file.`,
        );
      const definition = getDefinition(type);
      if (definition.keepsGrantsApart) return `separate:${randomUUID()}`;
      const parsed = validateTarget(type, target);
      return entitlementKey(name, definition.entitlementOf ? definition.entitlementOf(parsed) : parsed, principal);
    },
    names: () => [...connectors.keys()],
    async close() {
      await Promise.all([...connectors.values()].map((c) => c.close?.()));
    },
  };
}
