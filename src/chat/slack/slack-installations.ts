import type { Installation, InstallationStore } from "@slack/oauth";

/**
 * Where the Slack adapter keeps OAuth installations (multi-workspace mode): a port the composition
 * root fills in with the sealed database store, so the adapter never touches the database itself.
 */

export type AnyInstallation = Installation<"v1" | "v2", boolean>;

export interface SlackInstallationStore extends InstallationStore {
  /** Every installed workspace's key, oldest first (to find a person whose workspace is not known yet). */
  keys(): Promise<string[]>;
  /** The installation stored under a key, or null. */
  byKey(key: string): Promise<AnyInstallation | null>;
}
