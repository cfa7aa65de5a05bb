import mysql from "mysql2/promise";
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
import { privilegeProblems } from "./mysql-check.js";
import { type MysqlConfig, type MysqlTarget, MysqlTargetSchema, principalProblem } from "./mysql-config.js";
import { mysqlProblem, toMysqlError } from "./mysql-errors.js";
import { detectFlavour, type Flavour } from "./mysql-flavour.js";
import { accessRevoked, extendAccess, grantAccess, revokeAccess, type Session } from "./mysql-grants.js";
import { mysqlConnectorSpec } from "./mysql-spec.js";
import { withAccountLock } from "./mysql-sql.js";

/** Grants MySQL / MariaDB access: a role, or privileges on a database or table. See README.md. */

export function poolOptions(config: MysqlConfig): mysql.PoolOptions {
  // Parsed here rather than by mysql2, which would turn any query parameter into a driver option.
  const url = new URL(config.url);
  const socketPath = url.searchParams.get("socketPath");
  const database = decodeURIComponent(url.pathname.slice(1));
  return {
    ...(socketPath === null
      ? { host: url.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost", port: Number(url.port || 3306) }
      : { socketPath }),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    ...(database === "" ? {} : { database }),
    connectionLimit: config.maxConnections,
    connectTimeout: config.connectTimeoutSeconds * 1000,
    ...(config.ssl === "disable" ? {} : { ssl: { rejectUnauthorized: config.ssl === "verify-full" } }),
  };
}

const ignoreConnectionError = (): void => undefined;

export class MysqlConnector implements Connector {
  readonly type = "mysql";
  readonly #name: string;
  readonly #secrets: readonly string[];
  readonly #config: MysqlConfig;
  readonly #pool: mysql.Pool;
  #flavour: Flavour | undefined;
  #closed = false;

  constructor(config: MysqlConfig, options: { name: string; secrets: readonly string[] }) {
    this.#name = options.name;
    this.#config = config;
    this.#secrets = [...options.secrets, config.url];
    this.#pool = mysql.createPool(poolOptions(config));
    // mysql2 fails the command in flight when a connection is lost and also emits the error as
    // 'error' on the connection, which the pool listens to only once (to drop it); a further one
    // (a protocol error, a write after the loss), unheard, would end the whole process. The failed
    // command is what the caller reports, so each connection only needs a listener for its life.
    this.#pool.on("connection", (connection) => connection.on("error", ignoreConnectionError));
  }

  async check(options: CheckOptions = {}): Promise<CheckResult> {
    const problems: string[] = [];
    const targets = (options.targets ?? []).flatMap((raw, index) => {
      const result = MysqlTargetSchema.safeParse(raw);
      if (!result.success) problems.push(...describeIssues(result.error, `target ${index + 1}`));
      return result.success ? [result.data] : [];
    });
    let client: mysql.PoolConnection;
    try {
      client = await this.#pool.getConnection();
    } catch (error) {
      return {
        ok: false,
        problems: [...problems, mysqlProblem("cannot connect to MySQL/MariaDB", error, this.#secrets)],
      };
    }
    try {
      this.#flavour ??= await detectFlavour(client);
      problems.push(...(await privilegeProblems(client, this.#flavour, this.#config.ledgerDatabase, targets)));
      client.release();
    } catch (error) {
      client.destroy();
      problems.push(mysqlProblem("cannot read Sesame's privileges", error, this.#secrets));
    }
    return { ok: problems.length === 0, problems: problems.map((problem) => redactSecrets(problem, this.#secrets)) };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const target = this.#target(context);
    return this.#withSession("grant access", context, (session) => grantAccess(session, target));
  }

  async revoke(context: RevokeContext): Promise<void> {
    const target = this.#target(context);
    await this.#withSession("revoke access", context, (session) => revokeAccess(session, target, context.receipt));
  }

  /** Moves the grant's expiry in the ledger: until then its rows keep shared items in place for other grants. */
  async extend(context: RevokeContext): Promise<void> {
    this.#target(context);
    await this.#withSession("extend a grant", context, (session) => extendAccess(session));
  }

  async verifyRevoked(context: RevokeContext): Promise<boolean> {
    const target = this.#target(context);
    return this.#withSession("verify a revoke", context, (session) => accessRevoked(session, target, context.receipt));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  #target(context: GrantContext): MysqlTarget {
    const result = MysqlTargetSchema.safeParse(context.target);
    if (!result.success)
      throw configInvalid(describeIssues(result.error, `connector "${this.#name}" target`), { connector: this.#name });
    const problem =
      principalProblem(context.principal) ??
      (context.principal === poolOptions(this.#config).user ? "is Sesame's own account" : undefined);
    if (problem !== undefined) {
      throw new AppError(
        "connector_failed",
        `Connector "${this.#name}" cannot use principal "${context.principal}": it ${problem}. Fix the identity mapping.`,
      );
    }
    return result.data;
  }

  async #withSession<T>(action: string, context: GrantContext, work: (session: Session) => Promise<T>): Promise<T> {
    let client: mysql.PoolConnection | undefined;
    try {
      client = await this.#pool.getConnection();
      this.#flavour ??= await detectFlavour(client);
      const account = { user: context.principal, host: this.#config.accountHost };
      const session = {
        client,
        flavour: this.#flavour,
        ledgerDatabase: this.#config.ledgerDatabase,
        account,
        grantId: context.grantId,
        expiresAt: context.expiresAt,
      };
      const result = await withAccountLock(client, account, () => work(session));
      client.release();
      return result;
    } catch (error) {
      // Discard the connection: it may be broken or inside a transaction.
      client?.destroy();
      throw toMysqlError(error, this.#name, action, this.#secrets);
    }
  }
}

export const mysqlConnectorDefinition: ConnectorDefinition<MysqlConfig, MysqlTarget> = {
  ...mysqlConnectorSpec,
  create: (config, options) => new MysqlConnector(config, options),
};
