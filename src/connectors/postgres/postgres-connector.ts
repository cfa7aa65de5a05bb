import pg from "pg";
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
import { extendLoginRole, grantLoginRole, loginRoleRevoked, revokeLoginRole } from "./login-role-mode.js";
import { grantMembership, membershipRevoked, revokeMembership } from "./membership-mode.js";
import { privilegeProblems } from "./postgres-check.js";
import { type PostgresConfig, type PostgresTarget, PostgresTargetSchema, principalProblem } from "./postgres-config.js";
import { postgresProblem, toPostgresError } from "./postgres-errors.js";
import { postgresConnectorSpec } from "./postgres-spec.js";

/** Grants PostgreSQL access: role membership, or a temporary login role. See README.md. */

const SSL_OPTIONS = {
  disable: false,
  require: { rejectUnauthorized: false },
  "verify-full": { rejectUnauthorized: true },
} as const;

const ignoreClientError = (): void => undefined;

export class PostgresConnector implements Connector {
  readonly type = "postgres";
  readonly #name: string;
  readonly #secrets: readonly string[];
  readonly #pool: pg.Pool;
  #closed = false;

  constructor(config: PostgresConfig, options: { name: string; secrets: readonly string[] }) {
    this.#name = options.name;
    this.#secrets = [...options.secrets, config.url];
    this.#pool = new pg.Pool({
      connectionString: config.url,
      max: config.maxConnections,
      connectionTimeoutMillis: config.connectTimeoutSeconds * 1000,
      application_name: "sesame",
      ...(config.ssl === undefined ? {} : { ssl: SSL_OPTIONS[config.ssl] }),
    });
    // An idle connection that dies (server restart) is reported here; unheard, it would crash the
    // process. The next checkout simply opens a new connection.
    this.#pool.on("error", () => undefined);
    // A checked-out client has no listener of its own: pg emits 'error' on it when its socket dies
    // mid-call (a reset, a server killed), and unheard that ends the whole process. The query in
    // flight fails with the same error, which the caller reports, so the listener only has to be
    // there while the client is out; back in the pool, the pool's own listener takes over.
    this.#pool.on("acquire", (client) => client.on("error", ignoreClientError));
    this.#pool.on("release", (_error, client) => client.off("error", ignoreClientError));
  }

  async check(options: CheckOptions = {}): Promise<CheckResult> {
    const problems: string[] = [];
    const targets = (options.targets ?? []).flatMap((raw, index) => {
      const result = PostgresTargetSchema.safeParse(raw);
      if (!result.success) problems.push(...describeIssues(result.error, `target ${index + 1}`));
      return result.success ? [result.data] : [];
    });
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      return {
        ok: false,
        problems: [...problems, postgresProblem("cannot connect to PostgreSQL", error, this.#secrets)],
      };
    }
    try {
      problems.push(...(await privilegeProblems(client, targets)));
      client.release();
    } catch (error) {
      client.release(true);
      problems.push(postgresProblem("cannot read Sesame's privileges", error, this.#secrets));
    }
    return { ok: problems.length === 0, problems: problems.map((problem) => redactSecrets(problem, this.#secrets)) };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const target = this.#target(context);
    return this.#withClient("grant access", (client) =>
      target.mode === "membership"
        ? grantMembership(client, target, context.principal)
        : grantLoginRole(client, target, context),
    );
  }

  async revoke(context: RevokeContext): Promise<void> {
    const target = this.#target(context);
    await this.#withClient("revoke access", (client) =>
      target.mode === "membership"
        ? revokeMembership(client, target, context.principal, context.receipt)
        : revokeLoginRole(client, context.grantId, context.principal),
    );
  }

  /** Membership has no expiry on the server; a temporary login's VALID UNTIL follows the grant. */
  async extend(context: RevokeContext): Promise<GrantReceipt | void> {
    const target = this.#target(context);
    if (target.mode === "membership") return;
    return this.#withClient("extend access", (client) => extendLoginRole(client, context, context.receipt));
  }

  async verifyRevoked(context: RevokeContext): Promise<boolean> {
    const target = this.#target(context);
    return this.#withClient("verify a revoke", (client) =>
      target.mode === "membership"
        ? membershipRevoked(client, target, context.principal, context.receipt)
        : loginRoleRevoked(client, context.grantId, context.principal),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  #target(context: GrantContext): PostgresTarget {
    const result = PostgresTargetSchema.safeParse(context.target);
    if (!result.success)
      throw configInvalid(describeIssues(result.error, `connector "${this.#name}" target`), { connector: this.#name });
    const problem = principalProblem(context.principal);
    if (problem !== undefined) {
      throw new AppError(
        "connector_failed",
        `Connector "${this.#name}" cannot use principal "${context.principal}": it ${problem}. Fix the identity mapping.`,
      );
    }
    return result.data;
  }

  async #withClient<T>(action: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.#pool.connect();
      const result = await work(client);
      client.release();
      return result;
    } catch (error) {
      // Discard the connection: it may be broken or inside a failed transaction.
      client?.release(true);
      throw toPostgresError(error, this.#name, action, this.#secrets);
    }
  }
}

export const postgresConnectorDefinition: ConnectorDefinition<PostgresConfig, PostgresTarget> = {
  ...postgresConnectorSpec,
  create: (config, options) => new PostgresConnector(config, options),
};
