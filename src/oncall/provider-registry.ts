import type { OnCallSource } from "../domain/policy/policy-schema.js";
import { opsgenie } from "./opsgenie.js";
import { pagerDuty } from "./pagerduty.js";
import type { OnCallProviderDefinition } from "./provider.js";

/**
 * Every on-call provider, by the name the policy file uses (`oncall.<source>.provider`). Adding
 * one (Opsgenie's successor) is a file like `opsgenie.ts`, an entry here, and the name in
 * `OnCallSourceSchema`; the record type makes a missing entry a compile error.
 */
export const ON_CALL_PROVIDERS: Record<OnCallSource["provider"], OnCallProviderDefinition> = {
  pagerduty: pagerDuty,
  opsgenie,
};
