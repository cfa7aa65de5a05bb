import type { ConnectorSpec } from "../connector.js";
import { type NoopConfig, NoopConfigSchema, type NoopTarget, NoopTargetSchema } from "./noop-config.js";

/** What the policy loader needs to know about the noop connector; the implementation loads on first use. */
export const noopConnectorSpec: ConnectorSpec<NoopConfig, NoopTarget> = {
  type: "noop",
  description: "Grants nothing and records what it would do; for demos and tests.",
  configSchema: NoopConfigSchema,
  targetSchema: NoopTargetSchema,
  secretFields: [],
  // It remembers each grant by id, like a connector that creates one object per grant.
  keepsGrantsApart: true,
  load: async () => (await import("./noop-connector.js")).noopConnectorDefinition,
};
