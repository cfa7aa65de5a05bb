import { AppError } from "../../domain/errors.js";
import type {
  CheckResult,
  Connector,
  ConnectorDefinition,
  GrantContext,
  GrantReceipt,
  RevokeContext,
} from "../connector.js";
import type { NoopConfig, NoopTarget } from "./noop-config.js";
import { noopConnectorSpec } from "./noop-spec.js";

/**
 * The demo connector: grants nothing, remembers what it would have done. Also the workhorse of
 * service and job tests, hence the failure switches: `true` fails every call, a number fails
 * that many calls first (to exercise retries).
 */

export interface NoopCall {
  operation: "grant" | "extend" | "revoke";
  grantId: string;
  principal: string;
  target: Record<string, unknown>;
  expiresAt: Date;
}

/** Calls the noop connector remembers: plenty for a test or a demo, bounded for a long run. */
const MAX_CALLS_KEPT = 1_000;

export class NoopConnector implements Connector {
  readonly type = "noop";
  readonly #name: string;
  readonly #calls: NoopCall[] = [];
  readonly #active = new Map<string, NoopCall>();
  #grantFailuresLeft: number;
  #revokeFailuresLeft: number;
  #silentRevokeFailuresLeft: number;

  constructor(config: NoopConfig, name: string) {
    this.#name = name;
    this.#grantFailuresLeft = failureCount(config.failGrant);
    this.#revokeFailuresLeft = failureCount(config.failRevoke);
    this.#silentRevokeFailuresLeft = failureCount(config.leaveAccessOnRevoke);
  }

  /** The last MAX_CALLS_KEPT grant and revoke calls received, in order, including failed ones. */
  get calls(): readonly NoopCall[] {
    return this.#calls;
  }

  /** Grant ids whose access is currently "held". */
  activeGrantIds(): string[] {
    return [...this.#active.keys()];
  }

  /** Simulates an administrator removing the access behind Sesame's back. */
  removeOutOfBand(grantId: string): void {
    this.#active.delete(grantId);
  }

  /** Reports the failures still configured, so a demo of a broken connector looks broken everywhere. */
  async check(): Promise<CheckResult> {
    const problems: string[] = [];
    if (this.#grantFailuresLeft > 0) problems.push("configured to fail grants (failGrant)");
    if (this.#revokeFailuresLeft > 0) problems.push("configured to fail revokes (failRevoke)");
    if (this.#silentRevokeFailuresLeft > 0)
      problems.push("configured to leave access behind on revoke (leaveAccessOnRevoke)");
    return { ok: problems.length === 0, problems };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const call = this.#record("grant", context);
    if (this.#grantFailuresLeft > 0) {
      this.#grantFailuresLeft -= 1;
      throw this.#failure("grant");
    }
    this.#active.set(context.grantId, call);
    return { data: { noop: true, principal: context.principal } };
  }

  async extend(context: RevokeContext): Promise<void> {
    const call = this.#record("extend", context);
    if (this.#active.has(context.grantId)) this.#active.set(context.grantId, call);
  }

  async revoke(context: RevokeContext): Promise<void> {
    this.#record("revoke", context);
    if (this.#revokeFailuresLeft > 0) {
      this.#revokeFailuresLeft -= 1;
      throw this.#failure("revoke");
    }
    if (this.#silentRevokeFailuresLeft > 0) {
      this.#silentRevokeFailuresLeft -= 1;
      return;
    }
    this.#active.delete(context.grantId);
  }

  async verifyRevoked(context: RevokeContext): Promise<boolean> {
    return !this.#active.has(context.grantId);
  }

  #record(operation: NoopCall["operation"], context: GrantContext): NoopCall {
    const call: NoopCall = {
      operation,
      grantId: context.grantId,
      principal: context.principal,
      target: context.target,
      expiresAt: context.expiresAt,
    };
    this.#calls.push(call);
    // A demo process runs for months: an unbounded log would grow with every grant and revoke.
    if (this.#calls.length > MAX_CALLS_KEPT) this.#calls.shift();
    return call;
  }

  #failure(operation: NoopCall["operation"]): AppError {
    return new AppError(
      "connector_failed",
      `Connector "${this.#name}" (noop) was configured to fail ${operation}s; set ${operation === "grant" ? "failGrant" : "failRevoke"}: false to stop.`,
      {
        details: { connector: this.#name, action: operation },
      },
    );
  }
}

function failureCount(setting: boolean | number): number {
  if (setting === true) return Number.POSITIVE_INFINITY;
  return setting === false ? 0 : setting;
}

export const noopConnectorDefinition: ConnectorDefinition<NoopConfig, NoopTarget> = {
  ...noopConnectorSpec,
  create: (config, options) => new NoopConnector(config, options.name),
};
