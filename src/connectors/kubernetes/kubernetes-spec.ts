import type { ConnectorSpec } from "../connector.js";
import {
  type KubernetesConfig,
  KubernetesConfigSchema,
  type KubernetesTarget,
  KubernetesTargetSchema,
} from "./kubernetes-config.js";

/** What the policy loader needs to know about the kubernetes connector; the implementation loads on first use. */
export const kubernetesConnectorSpec: ConnectorSpec<KubernetesConfig, KubernetesTarget> = {
  type: "kubernetes",
  description:
    "Kubernetes: a temporary RoleBinding (or ClusterRoleBinding) of a Role or ClusterRole to a user or group.",
  configSchema: KubernetesConfigSchema,
  targetSchema: KubernetesTargetSchema,
  secretFields: ["token"],
  // Each grant is its own binding, named after the grant: each must be deleted on its own.
  keepsGrantsApart: true,
  load: async () => (await import("./kubernetes-connector.js")).kubernetesConnectorDefinition,
};
