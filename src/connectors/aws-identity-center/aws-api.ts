import { GetUserIdCommand, IdentitystoreClient } from "@aws-sdk/client-identitystore";
import {
  type AccountAssignmentOperationStatus,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentsForPrincipalCommand,
  SSOAdminClient,
  type SSOAdminClientConfig,
} from "@aws-sdk/client-sso-admin";
import { AppError } from "../../domain/errors.js";
import { type QuickRetryPolicy, withQuickRetries } from "../quick-retry.js";
import { AwsCallFailed, retryAdvice } from "./aws-errors.js";
import type { AwsIdentityCenterConfig, AwsIdentityCenterTarget } from "./aws-identity-center-config.js";

/**
 * The few Identity Center calls the connector makes, each with quick retries for throttling,
 * conflicts and 5xx (the SDK's own retries are off so that ours, with their injectable sleep, are
 * the only ones). Credentials come from the SDK's standard chain unless a test passes its own.
 */

export type AssignmentChange = "creation" | "deletion";

const MAX_PAGES = 100;

export interface AwsApiOptions {
  /** Tests only: fixed credentials instead of the standard chain. */
  credentials?: SSOAdminClientConfig["credentials"];
  sleep?: (ms: number) => Promise<void>;
}

export interface AwsApi {
  /** The Identity Center user id of the principal, or undefined when no user has that email or user name. */
  userIdOf(principal: string): Promise<string | undefined>;
  assignmentExists(userId: string, target: AwsIdentityCenterTarget): Promise<boolean>;
  /** Starts the change; returns its status as AWS first reports it. */
  startChange(
    change: AssignmentChange,
    userId: string,
    target: AwsIdentityCenterTarget,
  ): Promise<AccountAssignmentOperationStatus>;
  changeStatus(change: AssignmentChange, requestId: string): Promise<AccountAssignmentOperationStatus>;
  describePermissionSet(permissionSetArn: string): Promise<void>;
  close(): void;
}

export function createAwsApi(config: AwsIdentityCenterConfig, options: AwsApiOptions = {}): AwsApi {
  const timeoutMs = config.requestTimeoutSeconds * 1000;
  const common = {
    region: config.region,
    maxAttempts: 1,
    // The SDK sets no timeout of its own, and without throwOnRequestTimeout its requestTimeout only
    // logs a warning: an endpoint that accepts but never answers would hang a job.
    requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs, throwOnRequestTimeout: true },
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  };
  const admin = new SSOAdminClient({
    ...common,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
  });
  const storeEndpoint = config.identityStoreEndpoint ?? config.endpoint;
  const store = new IdentitystoreClient({
    ...common,
    ...(storeEndpoint === undefined ? {} : { endpoint: storeEndpoint }),
  });
  const policy: QuickRetryPolicy = {
    retries: config.retries,
    ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
  };
  // Every failure names the IAM action of the call, so a denial can say which permission is missing.
  const retried = async <T>(iamAction: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await withQuickRetries(call, retryAdvice, policy);
    } catch (error) {
      throw new AwsCallFailed(iamAction, error);
    }
  };
  const instance = { InstanceArn: config.instanceArn };
  const assignment = (userId: string, target: AwsIdentityCenterTarget) => ({
    ...instance,
    TargetId: target.accountId,
    TargetType: "AWS_ACCOUNT" as const,
    PermissionSetArn: target.permissionSetArn,
    PrincipalType: "USER" as const,
    PrincipalId: userId,
  });

  return {
    async userIdOf(principal) {
      const attributePath = config.principalAttribute === "email" ? "emails.value" : "userName";
      try {
        const answer = await retried("identitystore:GetUserId", () =>
          store.send(
            new GetUserIdCommand({
              IdentityStoreId: config.identityStoreId,
              AlternateIdentifier: { UniqueAttribute: { AttributePath: attributePath, AttributeValue: principal } },
            }),
          ),
        );
        return answer.UserId;
      } catch (error) {
        if (error instanceof AwsCallFailed && error.awsName === "ResourceNotFoundException") return undefined;
        throw error;
      }
    },
    async assignmentExists(userId, target) {
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const token = nextToken;
        const page = await retried("sso:ListAccountAssignmentsForPrincipal", () =>
          admin.send(
            new ListAccountAssignmentsForPrincipalCommand({
              ...instance,
              PrincipalId: userId,
              PrincipalType: "USER",
              Filter: { AccountId: target.accountId },
              ...(token === undefined ? {} : { NextToken: token }),
            }),
          ),
        );
        // Assignments through a group the user is in are listed too; only the user's own is Sesame's.
        const found = (page.AccountAssignments ?? []).some(
          (item) =>
            item.PrincipalType === "USER" &&
            item.PrincipalId === userId &&
            item.AccountId === target.accountId &&
            item.PermissionSetArn === target.permissionSetArn,
        );
        if (found) return true;
        nextToken = page.NextToken;
        pages += 1;
        // A user has at most a few hundred assignments in one account; an endless token is not AWS.
        if (pages >= MAX_PAGES && nextToken !== undefined && nextToken !== "")
          throw new AppError(
            "connector_failed",
            `AWS listed more than ${MAX_PAGES} pages of account assignments for one user and account; check the connector's endpoint.`,
          );
      } while (nextToken !== undefined && nextToken !== "");
      return false;
    },
    async startChange(change, userId, target) {
      if (change === "creation") {
        const answer = await retried("sso:CreateAccountAssignment", () =>
          admin.send(new CreateAccountAssignmentCommand(assignment(userId, target))),
        );
        return answer.AccountAssignmentCreationStatus ?? {};
      }
      const answer = await retried("sso:DeleteAccountAssignment", () =>
        admin.send(new DeleteAccountAssignmentCommand(assignment(userId, target))),
      );
      return answer.AccountAssignmentDeletionStatus ?? {};
    },
    async changeStatus(change, requestId) {
      if (change === "creation") {
        const answer = await retried("sso:DescribeAccountAssignmentCreationStatus", () =>
          admin.send(
            new DescribeAccountAssignmentCreationStatusCommand({
              ...instance,
              AccountAssignmentCreationRequestId: requestId,
            }),
          ),
        );
        return answer.AccountAssignmentCreationStatus ?? {};
      }
      const answer = await retried("sso:DescribeAccountAssignmentDeletionStatus", () =>
        admin.send(
          new DescribeAccountAssignmentDeletionStatusCommand({
            ...instance,
            AccountAssignmentDeletionRequestId: requestId,
          }),
        ),
      );
      return answer.AccountAssignmentDeletionStatus ?? {};
    },
    async describePermissionSet(permissionSetArn) {
      await retried("sso:DescribePermissionSet", () =>
        admin.send(new DescribePermissionSetCommand({ ...instance, PermissionSetArn: permissionSetArn })),
      );
    },
    close() {
      admin.destroy();
      store.destroy();
    },
  };
}
