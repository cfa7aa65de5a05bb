import { randomBytes } from "node:crypto";
import { AwsIdentityCenterConnector } from "../../src/connectors/aws-identity-center/aws-identity-center-connector.js";
import { awsIdentityCenterConnectorSpec } from "../../src/connectors/aws-identity-center/aws-identity-center-spec.js";
import type { GrantContext } from "../../src/connectors/connector.js";
import {
  ACCOUNT_ID,
  type AwsIdentityCenterStandIn,
  IDENTITY_STORE_ID,
  INSTANCE_ARN,
  PERMISSION_SET_ARN,
} from "./aws-identity-center-stand-in.js";

/** Shared pieces of the aws-identity-center tests: connectors pointed at the local stand-in, contexts. */

/** The stand-in only checks the access key id; the secret key must still never reach an error. */
export const secretAccessKey = `sesame/${randomBytes(18).toString("base64url")}+`;

export function awsConnector(
  standIn: AwsIdentityCenterStandIn,
  endpoint: string,
  overrides: Record<string, unknown> = {},
  options: { name?: string; sleep?: (ms: number) => Promise<void>; accessKeyId?: string } = {},
): AwsIdentityCenterConnector {
  const config = awsIdentityCenterConnectorSpec.configSchema.parse({
    region: "eu-west-1",
    instanceArn: INSTANCE_ARN,
    identityStoreId: IDENTITY_STORE_ID,
    endpoint,
    statusPollSeconds: 1,
    statusTimeoutSeconds: 30,
    ...overrides,
  });
  return new AwsIdentityCenterConnector(config, {
    name: options.name ?? "aws",
    secrets: [],
    credentials: { accessKeyId: options.accessKeyId ?? standIn.accessKeyId, secretAccessKey },
    // Status polls and quick retries are counted, never waited for.
    sleep: options.sleep ?? (async () => {}),
  });
}

/** A `sleep` that only records what it was asked to wait. */
export function recordingSleep(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

const suffix = randomBytes(3).toString("hex");
let sequence = 0;

/** A fresh grant for a fresh Identity Center user (added to the stand-in), by email. */
export function awsContext(
  standIn: AwsIdentityCenterStandIn,
  target: Record<string, unknown> = { accountId: ACCOUNT_ID, permissionSetArn: PERMISSION_SET_ARN },
): GrantContext {
  sequence += 1;
  const email = `user-${suffix}-${sequence}@example.com`;
  standIn.addUser(`user-${suffix}-${sequence}`, email);
  return {
    grantId: `grant-${suffix}-${sequence}`,
    principal: email,
    target,
    expiresAt: new Date(Date.now() + 3_600_000),
  };
}

export const hasAssignment = (standIn: AwsIdentityCenterStandIn, context: GrantContext): boolean =>
  countAssignments(standIn, context) > 0;

export function countAssignments(standIn: AwsIdentityCenterStandIn, context: GrantContext): number {
  const user = [...standIn.users.values()].find((candidate) => candidate.email === context.principal);
  return standIn.assignments.filter(
    (item) =>
      item.principalType === "USER" &&
      item.principalId === user?.userId &&
      item.accountId === context.target.accountId &&
      item.permissionSetArn === context.target.permissionSetArn,
  ).length;
}
