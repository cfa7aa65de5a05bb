import type { PolicyBook } from "../domain/policy-book.js";
import type { ConnectorProvider, JobScheduler, Logger, Notifier, OnCallDirectory, SecretBox, Store } from "./ports.js";

/** Everything a service needs, built once by the composition root (src/main.ts). */
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
}

/**
 * Transactions that call a connector (under the entitlement lock) may last this long: connector
 * calls have their own, shorter timeouts; the rest is headroom for retries inside the call.
 */
export const CONNECTOR_TRANSACTION_MS = 120_000;

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
