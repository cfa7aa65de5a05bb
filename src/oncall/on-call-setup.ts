import { isLoopbackHost } from "../connectors/webhook/webhook-client.js";
import type { PolicyFile } from "../domain/policy/policy-schema.js";
import type { OnCallEnv } from "./provider.js";
import { ON_CALL_PROVIDERS } from "./provider-registry.js";

/**
 * What keeps the policy's on-call sources from working with this environment, for `sesame`
 * start-up and `sesame policy validate`: one line per problem, naming the source and the
 * variable to set. Nothing is sent to any provider.
 */
export function describeOnCallSetup(sources: PolicyFile["oncall"], env: OnCallEnv): string[] {
  const problems: string[] = [];
  for (const [name, source] of Object.entries(sources)) {
    const definition = ON_CALL_PROVIDERS[source.provider];
    const prefix = `oncall.${name} (${definition.label}):`;
    for (const missing of definition.missingSettings(source, env)) problems.push(`${prefix} ${missing}`);
    for (const variable of definition.urlVariables) {
      const url = new URL(env[variable]);
      // The API key would cross the network in clear text; plain http is fine only to this machine (a test fake).
      if (url.protocol === "http:" && !isLoopbackHost(url.hostname))
        problems.push(`${prefix} ${variable} must be https:// (it is plain http:// to ${url.hostname})`);
    }
  }
  return problems;
}
