import { AppError } from "../../domain/errors.js";
import { CONNECTION_LOST_CODES, connectionLostHint } from "../connection-lost.js";
import type { RetryAdvice } from "../quick-retry.js";
import { describeError, errorCode, toConnectorError } from "../redact.js";

/**
 * Turns AWS SDK errors into operator advice. SDK service errors carry the AWS error code as
 * `name` and the HTTP status in `$metadata`; network errors carry a Node socket code.
 */

const THROTTLING = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "ProvisionedThroughputExceededException",
]);
const CREDENTIALS = new Set([
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "ExpiredTokenException",
  "ExpiredToken",
  "CredentialsProviderError",
]);
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"]);
export const README = "src/connectors/aws-identity-center/README.md";

/** A failed AWS call, with the IAM action it needed (for words about a denial). */
export class AwsCallFailed extends Error {
  constructor(
    readonly iamAction: string,
    readonly original: unknown,
  ) {
    super(`${iamAction} failed`);
    this.name = "AwsCallFailed";
  }

  get awsName(): string {
    return nameOf(this.original);
  }
}

interface SdkError {
  name?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $response?: unknown;
}

const nameOf = (error: unknown): string => String((error as SdkError | null)?.name ?? "");
const statusOf = (error: unknown): number | undefined => {
  const status = (error as SdkError | null)?.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
};
const isThrottling = (error: unknown) => THROTTLING.has(nameOf(error)) || statusOf(error) === 429;
const isServerFault = (error: unknown) =>
  (error as SdkError | null)?.$fault === "server" || (statusOf(error) ?? 0) >= 500;
/** The SDK could not read the answer as the AWS API: a parse error, with the raw answer kept aside. */
const isGarbage = (error: unknown) =>
  nameOf(error) === "SyntaxError" ||
  ((error as SdkError | null)?.$response !== undefined && statusOf(error) === undefined);

/**
 * Throttling, 5xx and network blips clear in seconds. A ConflictException (another change of the
 * same assignment under way) is waited out by settleChange, on the status budget.
 */
export function retryAdvice(error: unknown): RetryAdvice {
  if (error instanceof AppError) return { retry: false };
  if (isThrottling(error) || isServerFault(error)) return { retry: true };
  const code = errorCode(error);
  if (
    nameOf(error) === "TimeoutError" ||
    (code !== undefined && (CONNECTION_LOST_CODES.has(code) || UNREACHABLE.has(code)))
  )
    return { retry: true };
  return { retry: false };
}

/** One line: what went wrong, without secrets. */
export function describeAwsError(error: unknown, secrets: readonly string[]): string {
  if (isGarbage(error)) return "the endpoint answered something that is not the AWS API (not AWS JSON)";
  const name = nameOf(error);
  const status = statusOf(error);
  const message = describeError(error, secrets);
  if (status !== undefined && name !== "" && name !== "Error") return `${name} (HTTP ${status}): ${message}`;
  return message;
}

/** The short reason plus advice, for `check()` problems. */
export function awsProblem(prefix: string, caught: unknown, secrets: readonly string[]): string {
  const iamAction = caught instanceof AwsCallFailed ? caught.iamAction : "the AWS API";
  const error = caught instanceof AwsCallFailed ? caught.original : caught;
  return `${prefix}: ${describeAwsError(error, secrets)}. ${awsHint(error, iamAction)}`;
}

export function awsHint(error: unknown, iamAction: string): string {
  const name = nameOf(error);
  if (name === "AccessDeniedException" || name === "AccessDenied")
    return `Sesame's AWS identity may not call ${iamAction}: allow "${iamAction}" in its IAM policy (see ${README}).`;
  if (CREDENTIALS.has(name) || /credential/i.test(describeError(error, [])))
    return "AWS did not accept Sesame's credentials, or found none: give the process AWS credentials through the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a web identity token, or a task or instance role).";
  if (isThrottling(error))
    return "AWS kept throttling Sesame after the quick retries; the job retries later. Raise the connector's retries if it keeps happening.";
  if (name === "ConflictException")
    return "Another change of this assignment was still under way at AWS; the job retries later.";
  if (name === "ValidationException" || name === "ResourceNotFoundException")
    return "Check the connector's instanceArn and identityStoreId and the target's accountId and permissionSetArn.";
  if (isGarbage(error)) return "Check the connector's endpoint: it must point at the AWS API (or leave it out).";
  if (isServerFault(error)) return "AWS had a server error; the job retries later.";
  const code = errorCode(error);
  if (code !== undefined && (CONNECTION_LOST_CODES.has(code) || code === "ERR_STREAM_PREMATURE_CLOSE"))
    return connectionLostHint("AWS IAM Identity Center");
  if (name === "TimeoutError" || (code !== undefined && UNREACHABLE.has(code)))
    return "Check the connector's region and endpoint and that Sesame can reach AWS, then retry.";
  return "Check the connector's settings and Sesame's AWS permissions (see the README), then retry.";
}

export function toAwsError(caught: unknown, connector: string, action: string, secrets: readonly string[]): AppError {
  if (caught instanceof AppError) return toConnectorError(caught, { connector, action, secrets, hint: "" });
  const iamAction = caught instanceof AwsCallFailed ? caught.iamAction : "the AWS API";
  const error = caught instanceof AwsCallFailed ? caught.original : caught;
  const status = statusOf(error);
  const reason = `${describeAwsError(error, secrets)}. ${awsHint(error, iamAction)}`;
  return toConnectorError(
    new AppError("connector_failed", reason, {
      details: { awsError: nameOf(error), ...(status === undefined ? {} : { httpStatus: status }) },
    }),
    { connector, action, secrets, hint: "" },
  );
}
