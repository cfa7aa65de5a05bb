import type { PolicyBook } from "../domain/policy/policy-book.js";
import type { GrantWaits } from "./grant-waits.js";
import type { IncidentOfferStore } from "./incident-offers.js";
import type {
  ActionExecutor,
  ConnectorProvider,
  JobScheduler,
  Logger,
  Metrics,
  Notifier,
  OnCallDirectory,
  SecretBox,
  Store,
} from "./ports.js";

/** Everything a service needs, built once by the composition root (src/runtime.ts). */
export interface ServiceDeps {
  store: Store;
  jobs: JobScheduler;
  connectors: ConnectorProvider;
  /** The current policy; a function so a reloaded policy file takes effect without a restart. */
  policy: () => PolicyBook;
  secrets: SecretBox;
  notifier: Notifier;
  oncall: OnCallDirectory;
  logger: Logger;
  now: () => Date;
  /** Ids for new records (requests, grants), chosen before they are written so effects can name them. */
  newId: () => string;
  /** This process, as the owner of the entitlement leases it takes (it renews them while it lives). */
  instanceId: string;
  /** Counts and timings for /metrics; absent in tests that do not look at them. */
  metrics?: Metrics;
  /** Runs approved actions (issue 14); without it, action requests are refused. */
  actions?: ActionExecutor;
  /** Incident access offered as a one-click card (`incidentAccess` with `grant: offer`). */
  offers?: IncidentOfferStore;
  /** Wakes reads that wait for a grant's status; without it they read again every few seconds. */
  grantWaits?: GrantWaits;
}

/**
 * How long an entitlement lease lives without its owner's heartbeat: after a crash, the sweeper
 * takes over the half-done grant or revoke this long after the last renewal.
 */
export const LEASE_SECONDS = 15;

/** Runs after-commit side effects; a failure is logged, never undoes the committed change (the sweeper heals it). */
export async function afterCommit(deps: ServiceDeps, what: string, effect: () => Promise<void>): Promise<void> {
  try {
    await effect();
  } catch (error) {
    deps.logger.warn(
      { err: error instanceof Error ? error.message : String(error), what },
      "after-commit step failed; the sweeper will repair it",
    );
  }
}
