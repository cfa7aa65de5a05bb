import type { ConnectorSpec } from "../connector.js";
import {
  type OktaGroupConfig,
  OktaGroupConfigSchema,
  type OktaGroupTarget,
  OktaGroupTargetSchema,
} from "./okta-group-config.js";

/** What the policy loader needs to know about the Okta group connector; the implementation loads on first use. */
export const oktaGroupConnectorSpec: ConnectorSpec<OktaGroupConfig, OktaGroupTarget> = {
  type: "okta-group",
  description: "Okta: adds a user to an Okta group, and removes the membership Sesame added.",
  configSchema: OktaGroupConfigSchema,
  targetSchema: OktaGroupTargetSchema,
  secretFields: ["token"],
  // Okta keeps one membership per user and group, however many grants hold it: the core counts the
  // holders and revokes only when the last one ends.
  entitlementOf: (target) => ({ groupId: target.groupId }),
  load: async () => (await import("./okta-group-connector.js")).oktaGroupConnectorDefinition,
};
