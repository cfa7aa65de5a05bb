import type { ConnectorSpec } from "../connector.js";
import {
  type PostgresConfig,
  PostgresConfigSchema,
  type PostgresTarget,
  PostgresTargetSchema,
} from "./postgres-config.js";

/** What the policy loader needs to know about the postgres connector; the implementation loads on first use. */
export const postgresConnectorSpec: ConnectorSpec<PostgresConfig, PostgresTarget> = {
  type: "postgres",
  description: "PostgreSQL: temporary role membership, or a temporary login role with a generated password.",
  configSchema: PostgresConfigSchema,
  targetSchema: PostgresTargetSchema,
  secretFields: ["url"],
  // Membership of the role is the access, however sessions are handled; a login role is the principal itself.
  entitlementOf: (target) =>
    target.mode === "membership" ? { mode: target.mode, role: target.role } : { mode: target.mode },
  load: async () => (await import("./postgres-connector.js")).postgresConnectorDefinition,
};
