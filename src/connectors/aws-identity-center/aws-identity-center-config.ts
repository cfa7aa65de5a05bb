import { z } from "zod";
import { ApiEndpointSchema } from "../api-endpoint.js";

/** Connector config and resource targets of the `aws-identity-center` connector (see README.md). */

export const AwsIdentityCenterConfigSchema = z.strictObject({
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "must be an AWS region such as eu-west-1")
    .describe("The region IAM Identity Center is enabled in"),
  instanceArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:sso:::instance\/(sso)?ins-[a-zA-Z0-9.-]{1,40}$/,
      "must be an Identity Center instance ARN such as arn:aws:sso:::instance/ssoins-1234567890abcdef",
    )
    .describe("aws sso-admin list-instances prints it"),
  identityStoreId: z
    .string()
    .regex(
      /^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
      "must be an identity store id such as d-1234567890",
    )
    .describe("aws sso-admin list-instances prints it"),
  principalAttribute: z
    .enum(["email", "userName"])
    .default("email")
    .describe("How the principal names an Identity Center user: its primary email, or its user name"),
  endpoint: ApiEndpointSchema.optional().describe(
    "Optional: the SSO Admin API endpoint (a VPC endpoint, a proxy); default: AWS's for the region",
  ),
  identityStoreEndpoint: ApiEndpointSchema.optional().describe(
    "Optional: the Identity Store API endpoint; default: endpoint if set, otherwise AWS's for the region",
  ),
  requestTimeoutSeconds: z.coerce.number().positive().max(120).default(15).describe("Per AWS API request"),
  retries: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(4)
    .describe("Quick retries within one call for throttling, AWS 5xx and network errors"),
  statusTimeoutSeconds: z.coerce
    .number()
    .int()
    .min(1)
    .max(900)
    .default(300)
    .describe("How long a grant or revoke waits for AWS to finish the (asynchronous) assignment change"),
  statusPollSeconds: z.coerce
    .number()
    .positive()
    .max(60)
    .default(2)
    .describe("Pause between two looks at the assignment change's status"),
});
export type AwsIdentityCenterConfig = z.infer<typeof AwsIdentityCenterConfigSchema>;

export const AwsIdentityCenterTargetSchema = z.strictObject({
  accountId: z
    .string()
    .regex(/^\d{12}$/, "must be a 12-digit AWS account id (quote it in YAML)")
    .describe("The AWS account the permission set is assigned in"),
  permissionSetArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9.-]{1,40}\/ps-[a-zA-Z0-9.-]{1,40}$/,
      "must be a permission set ARN such as arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef",
    ),
});
export type AwsIdentityCenterTarget = z.infer<typeof AwsIdentityCenterTargetSchema>;

/** Principals are looked up as an exact attribute value; only sanity limits apply. */
export function principalProblem(principal: string): string | undefined {
  if (principal.length === 0 || principal.length > 128) return "must be 1-128 characters long";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\x00-\x1f\x7f]/.test(principal)) return "must not contain control characters";
  return undefined;
}
