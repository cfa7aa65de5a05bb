import type { Env } from "../config/env.js";
import type { OnCallSource } from "../domain/policy/policy-schema.js";
import type { OnCallPage, OnCallPerson } from "../services/ports.js";
import type { ProviderHttp } from "./provider-http.js";

/**
 * What one on-call provider (PagerDuty, Opsgenie, later Opsgenie's successor) must offer. Each
 * lives in its own file and is listed once in `provider-registry.ts`; nothing else names them.
 */

/** The environment variables on-call providers read; a full `Env` satisfies it. */
export type OnCallEnv = Pick<
  Env,
  | "PAGERDUTY_API_TOKEN"
  | "PAGERDUTY_ROUTING_KEY"
  | "PAGERDUTY_API_URL"
  | "PAGERDUTY_EVENTS_URL"
  | "OPSGENIE_API_KEY"
  | "OPSGENIE_API_URL"
>;

/** Env variables that hold an endpoint URL, checked at start-up for plain http:// to remote hosts. */
export type OnCallUrlVariable = "PAGERDUTY_API_URL" | "PAGERDUTY_EVENTS_URL" | "OPSGENIE_API_URL";

/** One provider bound to its credentials. Throws `ProviderFailure` (a reason safe to show) when it cannot answer. */
export interface OnCallProvider {
  whoIsOnCall(source: OnCallSource): Promise<OnCallPerson[]>;
  page(source: OnCallSource, page: OnCallPage): Promise<void>;
  resolvePage(source: OnCallSource, key: string): Promise<void>;
}

export interface OnCallProviderDefinition {
  /** As people know it, e.g. "PagerDuty": it starts every message about this provider. */
  label: string;
  urlVariables: readonly OnCallUrlVariable[];
  /** Settings missing for this source, one line each naming the variable to set (empty when complete). */
  missingSettings(source: OnCallSource, env: OnCallEnv): string[];
  create(env: OnCallEnv, http: ProviderHttp): OnCallProvider;
}

/** `base` may carry a path prefix (a proxy, a fake); `path` starts with "/". */
export function endpoint(base: string, path: string): URL {
  return new URL(`${base.replace(/\/+$/, "")}${path}`);
}

/** Providers cap text fields; cutting ourselves beats a rejected page. */
export function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
