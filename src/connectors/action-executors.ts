import type { PolicyFile } from "../domain/policy/policy-schema.js";
import type { ActionExecutor } from "../services/ports.js";
import { runMysqlAction } from "./mysql/mysql-action-executor.js";
import { MysqlConfigSchema, MysqlTargetSchema } from "./mysql/mysql-config.js";
import { runPostgresAction } from "./postgres/postgres-action-executor.js";
import { PostgresConfigSchema, PostgresTargetSchema } from "./postgres/postgres-config.js";

/**
 * Runs approved actions on the targets that support them: SQL on `postgres` and `mysql` (role
 * mode) connectors, as the connector's login (the executor login) `SET ROLE`d to the resource's role. Config values are
 * read from the environment when a run starts, as the connectors read them.
 */
export function createActionExecutor(policyFile: PolicyFile, env: Record<string, string | undefined>): ActionExecutor {
  return {
    async run({ connectorName, target, spec }) {
      const instance = policyFile.connectors[connectorName];
      const fail = (error: string) => ({
        outcome: "failed" as const,
        result: { rowCount: null, columns: [], rows: [], truncated: false, error },
      });
      if (instance?.type !== "postgres" && instance?.type !== "mysql")
        return fail(`connector ${connectorName} cannot run SQL actions`);
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
    },
  };
}
