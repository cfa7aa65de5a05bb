import { AppError } from "../../domain/errors.js";
import { configInvalid, describeIssues } from "../config-errors.js";
import type { CheckOptions, CheckResult, Connector, ConnectorDefinition, GrantContext, GrantReceipt, RevokeContext } from "../connector.js";
import { redactSecrets } from "../redact.js";
import { disableUser, enableUser, userDisabled } from "./enable-user-mode.js";
import { accountProblems } from "./redis-acl-check.js";
import { connectionUser, principalProblem, RedisAclConfigSchema, RedisAclTargetSchema, type RedisAclConfig, type RedisAclTarget } from "./redis-acl-config.js";
import { redisAclProblem, toRedisAclError } from "./redis-acl-errors.js";
import { withRedis, type RedisSession } from "./redis-session.js";
import { createTemporaryUser, deleteTemporaryUser, generatePassword, temporaryUserDeleted } from "./temporary-user-mode.js";

/** Grants Redis access through ACL users: switch an existing user on, or create a temporary one. See README.md. */

export class RedisAclConnector implements Connector {
  readonly type = "redis-acl";
  readonly #name: string;
  readonly #config: RedisAclConfig;
  readonly #secrets: readonly string[];
  /** Sesame's own ACL user, which is never a principal. */
  readonly #self: string;

  constructor(config: RedisAclConfig, options: { name: string; secrets: readonly string[] }) {
    this.#name = options.name;
    this.#config = config;
    this.#secrets = [...options.secrets, config.url];
    this.#self = connectionUser(config.url);
  }

  async check(options: CheckOptions = {}): Promise<CheckResult> {
    const problems: string[] = [];
    const targets = (options.targets ?? []).flatMap((raw, index) => {
      const result = RedisAclTargetSchema.safeParse(raw);
      if (!result.success) problems.push(...describeIssues(result.error, `target ${index + 1}`));
      return result.success ? [result.data] : [];
    });
    try {
      problems.push(...(await this.#session((session) => accountProblems(session, this.#self, targets, this.#config.aclSave))));
    } catch (error) {
      problems.push(redisAclProblem("cannot check Sesame's ACL user on Redis", error, this.#secrets));
    }
    return { ok: problems.length === 0, problems: problems.map((problem) => redactSecrets(problem, this.#secrets)) };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const target = this.#target(context);
    if (target.mode === "enable-user") return this.#change("grant access", [], (session) => enableUser(session, context.principal));
    const password = generatePassword();
    return this.#change("grant access", [password], (session) =>
      createTemporaryUser(session, target, { grantId: context.grantId, user: context.principal, password }),
    );
  }

  async revoke(context: RevokeContext): Promise<void> {
    const target = this.#target(context);
    await this.#change("revoke access", [], (session) =>
      target.mode === "enable-user" ? disableUser(session, context.principal) : deleteTemporaryUser(session, context.grantId, context.principal),
    );
  }

  async verifyRevoked(context: RevokeContext): Promise<boolean> {
    const target = this.#target(context);
    return this.#run("verify a revoke", [], (session) =>
      target.mode === "enable-user" ? userDisabled(session, context.principal) : temporaryUserDeleted(session, context.grantId, context.principal),
    );
  }

  #target(context: GrantContext): RedisAclTarget {
    const result = RedisAclTargetSchema.safeParse(context.target);
    if (!result.success) throw configInvalid(describeIssues(result.error, `connector "${this.#name}" target`), { connector: this.#name });
    const problem = principalProblem(context.principal, this.#self);
    if (problem !== undefined) {
      throw new AppError("connector_failed", `Connector "${this.#name}" cannot use principal "${context.principal}" as an ACL user: it ${problem}. Fix the identity mapping.`);
    }
    return result.data;
  }

  /** Runs a change, then persists all users to the ACL file when configured to. */
  #change<T>(action: string, extraSecrets: readonly string[], work: (session: RedisSession) => Promise<T>): Promise<T> {
    return this.#run(action, extraSecrets, async (session) => {
      const result = await work(session);
      if (this.#config.aclSave) await session.call("ACL", "SAVE");
      return result;
    });
  }

  async #run<T>(action: string, extraSecrets: readonly string[], work: (session: RedisSession) => Promise<T>): Promise<T> {
    try {
      return await this.#session(work);
    } catch (error) {
      throw toRedisAclError(error, this.#name, action, [...this.#secrets, ...extraSecrets]);
    }
  }

  #session<T>(work: (session: RedisSession) => Promise<T>): Promise<T> {
    return withRedis(this.#config.url, this.#config.connectTimeoutSeconds * 1000, work);
  }
}

export const redisAclConnectorDefinition: ConnectorDefinition<RedisAclConfig, RedisAclTarget> = {
  type: "redis-acl",
  description: "Redis ACL: switch an operator-defined ACL user on, or create a temporary user with a generated password and the given rules.",
  configSchema: RedisAclConfigSchema,
  targetSchema: RedisAclTargetSchema,
  secretFields: ["url"],
  create: (config, options) => new RedisAclConnector(config, options),
};
