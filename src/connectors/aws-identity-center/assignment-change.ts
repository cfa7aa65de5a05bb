import { setTimeout as sleep } from "node:timers/promises";
import type { AccountAssignmentOperationStatus } from "@aws-sdk/client-sso-admin";
import { AppError } from "../../domain/errors.js";
import type { AssignmentChange, AwsApi } from "./aws-api.js";
import { AwsCallFailed } from "./aws-errors.js";
import type { AwsIdentityCenterTarget } from "./aws-identity-center-config.js";

/**
 * Creating or deleting an account assignment is asynchronous: the call is accepted at once and the
 * change can still fail minutes later (AWS TEAM issue #522: "successful" grants that gave no
 * access). A grant or revoke is done only when AWS reports the change SUCCEEDED; FAILED fails the
 * call with AWS's reason, and a change still IN_PROGRESS after statusTimeoutSeconds fails it as
 * retryable (the retry starts the change again, which AWS treats as the same assignment).
 */

export interface SettleOptions {
  statusTimeoutSeconds: number;
  statusPollSeconds: number;
  /** Waits between two looks at the status; tests pass one that records instead of waiting. */
  sleep?: (ms: number) => Promise<void>;
}

const VERB: Record<AssignmentChange, string> = { creation: "creating", deletion: "deleting" };

/** Starts the change and waits until AWS settles it; returns AWS's request id. */
export async function settleChange(
  api: AwsApi,
  change: AssignmentChange,
  userId: string,
  target: AwsIdentityCenterTarget,
  options: SettleOptions,
): Promise<string> {
  // Counted in polls, not wall-clock time: a busy process must not shorten the bound.
  const polls = Math.ceil(options.statusTimeoutSeconds / options.statusPollSeconds);
  let poll = 0;
  const wait = async (what: string) => {
    if (poll >= polls)
      throw new AppError(
        "connector_failed",
        `AWS was still ${what} after ${options.statusTimeoutSeconds} s; it will be retried. If this keeps happening, look the request up with aws sso-admin list-account-assignment-${change}-status.`,
      );
    poll += 1;
    await (options.sleep ?? sleep)(options.statusPollSeconds * 1000);
  };
  let status = await startOnceFree(api, change, userId, target, wait);
  const requestId = status.RequestId;
  if (requestId === undefined || requestId === "") throw unreadable(change, status);
  while (status.Status === "IN_PROGRESS") {
    await wait(`${VERB[change]} the account assignment (request ${requestId})`);
    status = await api.changeStatus(change, requestId);
  }
  if (status.Status === "SUCCEEDED") return requestId;
  if (status.Status === "FAILED")
    throw new AppError(
      "connector_failed",
      `AWS failed ${VERB[change]} the account assignment (request ${requestId}): ${status.FailureReason ?? "no reason given"}. Fix the cause AWS names (for example the IAM role quota of the account, or a permission set that cannot be provisioned there); the job retries.`,
      { details: { awsRequestId: requestId } },
    );
  throw unreadable(change, status);
}

/**
 * AWS refuses (ConflictException) to start a change while another change of the same assignment is
 * under way: an earlier call whose answer was lost, or a grant and a revoke crossing (AWS TEAM
 * #513). That one settles like any other, so it is waited for on the same budget as the status.
 */
async function startOnceFree(
  api: AwsApi,
  change: AssignmentChange,
  userId: string,
  target: AwsIdentityCenterTarget,
  wait: (what: string) => Promise<void>,
): Promise<AccountAssignmentOperationStatus> {
  for (;;) {
    try {
      return await api.startChange(change, userId, target);
    } catch (error) {
      if (!(error instanceof AwsCallFailed && error.awsName === "ConflictException")) throw error;
      await wait("busy with another change of this account assignment");
    }
  }
}

function unreadable(change: AssignmentChange, status: AccountAssignmentOperationStatus): AppError {
  return new AppError(
    "connector_failed",
    `AWS answered the assignment ${change} with status ${JSON.stringify(status.Status ?? null)} and request id ${JSON.stringify(status.RequestId ?? null)}, which Sesame cannot follow. Check the connector's endpoint; the job retries.`,
  );
}
