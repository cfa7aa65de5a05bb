import type { ConnectorSpec } from "../connector.js";
import { type MysqlConfig, MysqlConfigSchema, type MysqlTarget, MysqlTargetSchema } from "./mysql-config.js";

/** What the policy loader needs to know about the mysql connector; the implementation loads on first use. */
export const mysqlConnectorSpec: ConnectorSpec<MysqlConfig, MysqlTarget> = {
  type: "mysql",
  description:
    "MySQL / MariaDB: a temporary role (made the default role) or temporary privileges on a database or table.",
  configSchema: MysqlConfigSchema,
  targetSchema: MysqlTargetSchema,
  secretFields: ["url"],
  // The grant ledger counts overlapping grants itself: every grant's revoke must reach it.
  keepsGrantsApart: true,
  load: async () => (await import("./mysql-connector.js")).mysqlConnectorDefinition,
};
