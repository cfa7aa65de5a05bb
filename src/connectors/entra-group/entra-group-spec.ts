import type { ConnectorSpec } from "../connector.js";
import {
  type EntraGroupConfig,
  EntraGroupConfigSchema,
  type EntraGroupTarget,
  EntraGroupTargetSchema,
} from "./entra-group-config.js";

/** What the policy loader needs to know about the Microsoft Entra ID group connector; the implementation loads on first use. */
export const entraGroupConnectorSpec: ConnectorSpec<EntraGroupConfig, EntraGroupTarget> = {
  type: "entra-group",
  description:
    "Microsoft Entra ID: adds a user to a group through Microsoft Graph, and removes the membership Sesame added.",
  configSchema: EntraGroupConfigSchema,
  targetSchema: EntraGroupTargetSchema,
  secretFields: ["clientSecret"],
  // Entra keeps one membership per user and group, however many grants hold it: the core counts
  // the holders and revokes only when the last one ends.
  entitlementOf: (target) => ({ groupId: target.groupId.toLowerCase() }),
  load: async () => (await import("./entra-group-connector.js")).entraGroupConnectorDefinition,
};
