import type { ConnectorSpec } from "../connector.js";
import {
  type RedisAclConfig,
  RedisAclConfigSchema,
  type RedisAclTarget,
  RedisAclTargetSchema,
} from "./redis-acl-config.js";

/** What the policy loader needs to know about the redis-acl connector; the implementation loads on first use. */
export const redisAclConnectorSpec: ConnectorSpec<RedisAclConfig, RedisAclTarget> = {
  type: "redis-acl",
  description:
    "Redis ACL: switch an operator-defined ACL user on, or create a temporary user with a generated password and the given rules.",
  configSchema: RedisAclConfigSchema,
  targetSchema: RedisAclTargetSchema,
  secretFields: ["url"],
  load: async () => (await import("./redis-acl-connector.js")).redisAclConnectorDefinition,
};
