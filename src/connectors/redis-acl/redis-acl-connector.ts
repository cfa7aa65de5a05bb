import { AppError } from "../../domain/errors.js";
import { configInvalid, describeIssues } from "../config-errors.js";
import type {
  CheckOptions,
  CheckResult,
  Connector,
  ConnectorDefinition,
  GrantContext,
  GrantReceipt,
  RevokeContext,
} from "../connector.js";
import { redactSecrets } from "../redact.js";
import { disableUser, enableUser, userDisabled } from "./enable-user-mode.js";
import { type Persisted, persistFailed, persistUsers } from "./persistence.js";
import { accountProblems } from "./redis-acl-check.js";
import {
  connectionUser,
  principalProblem,
  type RedisAclConfig,
  type RedisAclTarget,
  RedisAclTargetSchema,
} from "./redis-acl-config.js";
import { redisAclProblem, toRedisAclError } from "./redis-acl-errors.js";
import { redisAclConnectorSpec } from "./redis-acl-spec.js";
import { type RedisSession, serverRunId, withRedis } from "./redis-session.js";
import { assertSameServer } from "./server-change.js";
import {
  createTemporaryUser,
  deleteTemporaryUser,
  generatePassword,
  temporaryUserDeleted,
} from "./temporary-user-mode.js";

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
      problems.push(
        ...(await this.#session((session) => accountProblems(session, this.#self, targets, this.#config.persist))),
      );
    } catch (error) {
      problems.push(redisAclProblem("cannot check Sesame's ACL user on Redis", error, this.#secrets));
    }
    return { ok: problems.length === 0, problems: problems.map((problem) => redactSecrets(problem, this.#secrets)) };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const target = this.#target(context);
    // Used by temporary-user targets only.
    const password = generatePassword();
    return this.#run("grant access", [password], async (session) => {
      const runId = await serverRunId(session);
      const receipt =
        target.mode === "enable-user"
          ? await enableUser(session, context.principal)
          : await createTemporaryUser(session, target, { grantId: context.grantId, user: context.principal, password });
      let persisted: Persisted;
      try {
        persisted = await persistUsers(session, this.#config.persist);
      } catch (error) {
        // Hand out nothing that Sesame could not also take away for good: undo the change in memory.
        const undone = await this.#undoGrant(session, context, receipt).then(
          () => true,
          () => false,
        );
        throw persistFailed({ grant: { undone } }, context.principal, this.#config.persist, error, this.#secrets);
      }
      return { ...receipt, data: { ...receipt.data, runId, persisted } };
    });
  }

  async revoke(context: RevokeContext): Promise<void> {
    const target = this.#target(context);
    await this.#run("revoke access", [], async (session) => {
      const runId = await serverRunId(session);
      const found =
        target.mode === "enable-user"
          ? await disableUser(session, context.principal)
          : await deleteTemporaryUser(session, context.grantId, context.principal);
      // Even when nothing was found: the server's files may still hold the user (written by anyone's
      // ACL SAVE or CONFIG REWRITE during the grant), and a restart would bring it back.
      try {
        await persistUsers(session, this.#config.persist);
      } catch (error) {
        throw persistFailed("revoke", context.principal, this.#config.persist, error, this.#secrets);
      }
      if (!found)
        assertSameServer(context.receipt, runId, {
          principal: context.principal,
          clearedRunIds: this.#config.clearedRunIds,
        });
    });
  }

  async verifyRevoked(context: RevokeContext): Promise<boolean> {
    const target = this.#target(context);
    return this.#run("verify a revoke", [], (session) =>
      target.mode === "enable-user"
        ? userDisabled(session, context.principal)
        : temporaryUserDeleted(session, context.grantId, context.principal),
    );
  }

  /** Takes back what a grant whose persisting failed changed in memory; a user that was on before the grant stays on. */
  async #undoGrant(session: RedisSession, context: GrantContext, receipt: GrantReceipt): Promise<void> {
    if (receipt.data.mode === "temporary-user") await deleteTemporaryUser(session, context.grantId, context.principal);
    else if (receipt.data.wasEnabled !== true) await disableUser(session, context.principal);
  }

  #target(context: GrantContext): RedisAclTarget {
    const result = RedisAclTargetSchema.safeParse(context.target);
    if (!result.success)
      throw configInvalid(describeIssues(result.error, `connector "${this.#name}" target`), { connector: this.#name });
    const problem = principalProblem(context.principal, this.#self);
    if (problem !== undefined) {
      throw new AppError(
        "connector_failed",
        `Connector "${this.#name}" cannot use principal "${context.principal}" as an ACL user: it ${problem}. Fix the identity mapping.`,
      );
    }
    return result.data;
  }

  async #run<T>(
    action: string,
    extraSecrets: readonly string[],
    work: (session: RedisSession) => Promise<T>,
  ): Promise<T> {
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
  ...redisAclConnectorSpec,
  create: (config, options) => new RedisAclConnector(config, options),
};
