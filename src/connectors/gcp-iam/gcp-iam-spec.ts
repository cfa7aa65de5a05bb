import type { ConnectorSpec } from "../connector.js";
import { type GcpIamConfig, GcpIamConfigSchema, type GcpIamTarget, GcpIamTargetSchema } from "./gcp-iam-config.js";

/** What the policy loader needs to know about the Google Cloud IAM connector; the implementation loads on first use. */
export const gcpIamConnectorSpec: ConnectorSpec<GcpIamConfig, GcpIamTarget> = {
  type: "gcp-iam",
  description:
    "Google Cloud IAM: a role binding on a project, folder or organization with an IAM condition that ends it at expiry.",
  configSchema: GcpIamConfigSchema,
  targetSchema: GcpIamTargetSchema,
  // Credentials come from Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, workload identity, metadata server).
  secretFields: [],
  // Each grant is its own conditional binding (titled after the grant, with its own expiry): two
  // grants of the same role to the same person never share one, so each is revoked on its own.
  keepsGrantsApart: true,
  load: async () => (await import("./gcp-iam-connector.js")).gcpIamConnectorDefinition,
};
