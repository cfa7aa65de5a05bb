import type { ConnectorSpec } from "../connector.js";
import {
  type KerberosConfig,
  KerberosConfigSchema,
  type KerberosTarget,
  KerberosTargetSchema,
} from "./kerberos-config.js";

/** What the policy loader needs to know about the kerberos connector; the implementation loads on first use. */
export const kerberosConnectorSpec: ConnectorSpec<KerberosConfig, KerberosTarget> = {
  type: "kerberos",
  description:
    "Kerberos (MIT): enables a disabled, existing principal (e.g. alice/admin) until the grant expires, with tickets bounded by the grant.",
  configSchema: KerberosConfigSchema,
  targetSchema: KerberosTargetSchema,
  secretFields: [],
  // Enabling the principal is the access; the ticket-life cap only shapes how it is given.
  entitlementOf: () => ({}),
  load: async () => (await import("./kerberos-connector.js")).kerberosConnectorDefinition,
};
