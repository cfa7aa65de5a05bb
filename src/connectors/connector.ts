import type { z } from "zod";

/**
 * The contract every connector implements. All three operations are idempotent per grant id:
 * a retried grant must not duplicate access, a repeated revoke is a no-op, and a revoke after
 * the access was removed out of band succeeds.
 */

/** What a grant or revoke is about. `principal` is the account on the target (db role, ...). */
export interface GrantContext {
  grantId: string;
  principal: string;
  /** Resource-specific target from the policy file (already validated by `targetSchema`). */
  target: Record<string, unknown>;
  expiresAt: Date;
  /**
   * An earlier grant call for this grant started and its outcome was never recorded (its process
   * died): whatever is in place at the target may be that call's doing. A connector that cannot
   * tell its own changes from ones made by hand (group memberships) counts them as its own, so the
   * revoke takes them away rather than leaving access behind.
   */
  unfinishedCallBefore?: boolean;
}

/** What the connector needs later to undo a grant. Stored with the grant. */
export interface GrantReceipt {
  /** Safe to store in clear and show to admins. */
  data: Record<string, unknown>;
  /** Credentials handed to the requester (e.g. a generated password); stored encrypted, never logged. */
  secret?: Record<string, string>;
}

export interface RevokeContext extends GrantContext {
  /** The `data` of the grant's receipt; null when the grant never returned one (it failed or crashed). */
  receipt: Record<string, unknown> | null;
}

export interface CheckOptions {
  /** Targets of the resources using this connector (validated by `targetSchema`): check what they need too. */
  targets?: readonly Record<string, unknown>[];
}

export interface CheckResult {
  ok: boolean;
  /** Human-readable problems, e.g. "cannot connect: connection refused". Never a secret. */
  problems: string[];
}

export interface Connector {
  readonly type: string;
  check(options?: CheckOptions): Promise<CheckResult>;
  grant(context: GrantContext): Promise<GrantReceipt>;
  revoke(context: RevokeContext): Promise<void>;
  /**
   * Optional: the grant was extended and `context.expiresAt` is its new, later expiry. Connectors
   * that enforce an expiry on the target itself (Kerberos principal expiry, PostgreSQL VALID UNTIL)
   * move it; a returned receipt replaces the stored one. Connectors whose target keeps no expiry of
   * its own leave this out: the revoke job alone ends the access.
   */
  extend?(context: RevokeContext): Promise<GrantReceipt | void>;
  /** Optional: confirms the access is gone after a revoke (true = gone). */
  verifyRevoked?(context: RevokeContext): Promise<boolean>;
  close?(): Promise<void>;
}

/** A connector type: how to validate its config and target, and how to build an instance. */
/**
 * What the policy loader and the core need to know about a connector type without loading its
 * implementation (and its client library: the Kubernetes client alone costs about a second and
 * tens of MB); `load` brings the implementation in when a connector of this type is created.
 */
export interface ConnectorSpec<Config = unknown, Target = unknown> {
  type: string;
  description: string;
  configSchema: z.ZodType<Config>;
  targetSchema: z.ZodType<Target>;
  /**
   * Optional: the part of a (parsed) target that says which access it gives, for telling whether
   * two grants hold the same thing (overlapping grants must not revoke each other). Leave settings
   * that only change how a grant is done out of it (e.g. whether sessions are ended). Default: the
   * whole parsed target.
   */
  entitlementOf?(target: Target): unknown;
  /**
   * True when every grant is its own object on the target (a binding named after the grant) or the
   * connector counts holders itself: then each grant is revoked on its own, and the core's
   * overlapping-grant counting (which skips the revoke while another grant holds the same access)
   * must not apply.
   */
  keepsGrantsApart?: boolean;
  /** Config keys whose values are secrets: they must come from the environment and are redacted from errors. */
  secretFields: readonly string[];
  load(): Promise<ConnectorDefinition<Config, Target>>;
}

export interface ConnectorDefinition<Config = unknown, Target = unknown> extends ConnectorSpec<Config, Target> {
  create(config: Config, options: { name: string; secrets: readonly string[] }): Connector;
}
