import type { ConnectorSpec } from "../connector.js";
import {
  type AwsIdentityCenterConfig,
  AwsIdentityCenterConfigSchema,
  type AwsIdentityCenterTarget,
  AwsIdentityCenterTargetSchema,
} from "./aws-identity-center-config.js";

/** What the policy loader needs to know about the AWS IAM Identity Center connector; the implementation loads on first use. */
export const awsIdentityCenterConnectorSpec: ConnectorSpec<AwsIdentityCenterConfig, AwsIdentityCenterTarget> = {
  type: "aws-identity-center",
  description: "AWS IAM Identity Center: assigns a permission set in an AWS account to an Identity Center user.",
  configSchema: AwsIdentityCenterConfigSchema,
  targetSchema: AwsIdentityCenterTargetSchema,
  // Credentials come from the AWS SDK's standard chain (environment, web identity, container or instance role).
  secretFields: [],
  // AWS keeps one assignment per user, account and permission set, however many grants hold it: the
  // core must count the holders and revoke only when the last one ends (AWS TEAM PR #541).
  entitlementOf: (target) => ({ accountId: target.accountId, permissionSetArn: target.permissionSetArn }),
  load: async () => (await import("./aws-identity-center-connector.js")).awsIdentityCenterConnectorDefinition,
};
