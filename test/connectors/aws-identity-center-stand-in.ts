import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A LOCAL STAND-IN FOR AWS IAM IDENTITY CENTER, not AWS itself: no AWS endpoint is reachable from
 * the test machine. It speaks the documented AWS JSON 1.1 protocol of the calls the connector
 * makes (POST /, `X-Amz-Target: <service>.<Operation>`, JSON bodies; errors as HTTP 400/429/5xx
 * with `__type` and `message`), so the real @aws-sdk clients talk to it unchanged:
 *   AWSIdentityStore.GetUserId (by userName or emails.value)
 *   SWBExternalService.CreateAccountAssignment / DeleteAccountAssignment (asynchronous: IN_PROGRESS
 *     for the next `pollsUntilSettled` requests, then SUCCEEDED or, when scripted, FAILED; a second change
 *     of the same assignment while one is in progress gets ConflictException),
 *   DescribeAccountAssignmentCreationStatus / DeletionStatus, ListAccountAssignmentsForPrincipal
 *     (paged, two per page, with the user's group assignments mixed in), DescribePermissionSet.
 * It checks that each request is SigV4-signed with the test's access key id (the signature itself
 * is not verified). One store, one assignment per user, account and permission set, as AWS keeps them.
 */

export const INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-1111222233334444";
export const IDENTITY_STORE_ID = "d-1234567890";
export const PERMISSION_SET_ARN = "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd";
export const OTHER_PERMISSION_SET_ARN = "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-eeeeffff00001111";
export const ACCOUNT_ID = "111122223333";

export interface Assignment {
  principalType: "USER" | "GROUP";
  principalId: string;
  accountId: string;
  permissionSetArn: string;
}

interface Change {
  requestId: string;
  kind: "creation" | "deletion";
  assignment: Assignment;
  status: "IN_PROGRESS" | "SUCCEEDED" | "FAILED";
  pollsLeft: number;
  failureReason: string | undefined;
}

/** An answer given instead of processing the next request (throttling, garbage, a 5xx). */
export interface ScriptedAnswer {
  status: number;
  body: string;
  /** Only for requests with this operation; default: the next request whatever it is. */
  operation?: string;
}

export interface AwsCall {
  operation: string;
  body: Record<string, unknown>;
}

const sameAssignment = (a: Assignment, b: Assignment) =>
  a.principalType === b.principalType &&
  a.principalId === b.principalId &&
  a.accountId === b.accountId &&
  a.permissionSetArn === b.permissionSetArn;

export const awsError = (type: string, message: string, status = 400): ScriptedAnswer => ({
  status,
  body: JSON.stringify({ __type: type, message }),
});

export class AwsIdentityCenterStandIn {
  readonly accessKeyId = "AKIASESAMESTANDIN01";
  readonly calls: AwsCall[] = [];
  readonly assignments: Assignment[] = [];
  /** userName → user id and email. */
  readonly users = new Map<string, { userId: string; email: string; groupIds: string[] }>();
  /** Status reads a change stays IN_PROGRESS for. */
  pollsUntilSettled = 2;
  /** Operations answered with AccessDeniedException (e.g. "CreateAccountAssignment"). */
  readonly denied = new Set<string>();
  readonly permissionSets = new Set([PERMISSION_SET_ARN, OTHER_PERMISSION_SET_ARN]);
  readonly #changes = new Map<string, Change>();
  readonly #scripted: ScriptedAnswer[] = [];
  #failNextChange: string | undefined;
  #hold: { operation: string; reached(): void } | undefined;
  readonly #held = new Set<http.ServerResponse>();
  readonly #server = http.createServer((request, response) => void this.#handle(request, response));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  addUser(userName: string, email: string, groupIds: string[] = []): string {
    const userId = `9067${randomUUID().slice(4)}`;
    this.users.set(userName, { userId, email, groupIds });
    return userId;
  }

  userIdOf(userName: string): string | undefined {
    return this.users.get(userName)?.userId;
  }

  /** Answers the next request(s) with these instead of processing them. */
  script(...answers: ScriptedAnswer[]): void {
    this.#scripted.push(...answers);
  }

  /** The next assignment change AWS accepts ends FAILED with this reason. */
  failNextChange(reason: string): void {
    this.#failNextChange = reason;
  }

  /** Processes the next request of this operation, then never answers it; resolves when it arrived. */
  holdNext(operation: string): Promise<void> {
    return new Promise((reached) => {
      this.#hold = { operation, reached };
    });
  }

  /** Ends the held requests' connections, as a dying load balancer would. */
  cutHeld(): void {
    for (const response of this.#held) response.socket?.destroy();
    this.#held.clear();
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers["x-amz-target"] ?? "");
    const operation = target.split(".").at(-1) ?? "";
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
    } catch {
      return this.#send(response, awsError("SerializationException", "body is not JSON"));
    }
    this.calls.push({ operation, body });
    this.#tick();
    const scriptedIndex = this.#scripted.findIndex(
      (answer) => answer.operation === undefined || answer.operation === operation,
    );
    if (scriptedIndex >= 0) {
      const [answer] = this.#scripted.splice(scriptedIndex, 1);
      return this.#send(response, answer!);
    }
    if (request.method !== "POST" || request.headers["content-type"] !== "application/x-amz-json-1.1")
      return this.#send(
        response,
        awsError("UnknownOperationException", "expected a POST of application/x-amz-json-1.1"),
      );
    if (!String(request.headers.authorization ?? "").includes(`Credential=${this.accessKeyId}/`))
      return this.#send(
        response,
        awsError("UnrecognizedClientException", "The security token included in the request is invalid."),
      );
    if (this.denied.has(operation))
      return this.#send(
        response,
        awsError(
          "AccessDeniedException",
          `User: arn:aws:iam::${ACCOUNT_ID}:role/sesame is not authorized to perform: ${target.startsWith("AWSIdentityStore") ? "identitystore" : "sso"}:${operation}`,
        ),
      );
    const answer = this.#answer(target, operation, body);
    if (this.#hold?.operation === operation) {
      const { reached } = this.#hold;
      this.#hold = undefined;
      this.#held.add(response);
      reached();
      return;
    }
    this.#send(response, answer);
  }

  #send(response: http.ServerResponse, answer: ScriptedAnswer): void {
    response.writeHead(answer.status, {
      "Content-Type": "application/x-amz-json-1.1",
      "x-amzn-RequestId": randomUUID(),
    });
    response.end(answer.body);
  }

  #answer(target: string, operation: string, body: Record<string, unknown>): ScriptedAnswer {
    const ok = (value: unknown): ScriptedAnswer => ({ status: 200, body: JSON.stringify(value) });
    if (target.startsWith("AWSIdentityStore.")) {
      if (operation !== "GetUserId") return awsError("UnknownOperationException", operation);
      if (body.IdentityStoreId !== IDENTITY_STORE_ID)
        return awsError("ResourceNotFoundException", "identity store not found");
      const unique = (
        body.AlternateIdentifier as { UniqueAttribute?: { AttributePath?: string; AttributeValue?: unknown } }
      )?.UniqueAttribute;
      const match = [...this.users.entries()].find(([userName, user]) =>
        unique?.AttributePath === "userName"
          ? userName === unique.AttributeValue
          : user.email === unique?.AttributeValue,
      );
      if (unique?.AttributePath !== "userName" && unique?.AttributePath !== "emails.value")
        return awsError("ValidationException", "unsupported attribute path");
      return match === undefined
        ? awsError("ResourceNotFoundException", "USER not found.")
        : ok({ IdentityStoreId: IDENTITY_STORE_ID, UserId: match[1].userId });
    }
    if (!target.startsWith("SWBExternalService.")) return awsError("UnknownOperationException", target);
    if (body.InstanceArn !== INSTANCE_ARN) return awsError("ValidationException", "instance not found");
    switch (operation) {
      case "CreateAccountAssignment":
      case "DeleteAccountAssignment":
        return this.#startChange(operation === "CreateAccountAssignment" ? "creation" : "deletion", body);
      case "DescribeAccountAssignmentCreationStatus":
      case "DescribeAccountAssignmentDeletionStatus": {
        const kind = operation.endsWith("CreationStatus") ? "creation" : "deletion";
        const requestId =
          body[kind === "creation" ? "AccountAssignmentCreationRequestId" : "AccountAssignmentDeletionRequestId"];
        const change = this.#changes.get(String(requestId));
        if (change === undefined || change.kind !== kind)
          return awsError("ResourceNotFoundException", "request not found");
        return ok({
          [kind === "creation" ? "AccountAssignmentCreationStatus" : "AccountAssignmentDeletionStatus"]:
            statusOf(change),
        });
      }
      case "ListAccountAssignmentsForPrincipal": {
        const user = [...this.users.values()].find((candidate) => candidate.userId === body.PrincipalId);
        const ids = new Set([String(body.PrincipalId), ...(user?.groupIds ?? [])]);
        const accountId = (body.Filter as { AccountId?: string } | undefined)?.AccountId;
        const all = this.assignments.filter(
          (item) => ids.has(item.principalId) && (accountId === undefined || item.accountId === accountId),
        );
        const start = Number(body.NextToken ?? 0);
        const page = all.slice(start, start + 2);
        return ok({
          AccountAssignments: page.map((item) => ({
            AccountId: item.accountId,
            PermissionSetArn: item.permissionSetArn,
            PrincipalId: item.principalId,
            PrincipalType: item.principalType,
          })),
          ...(start + 2 < all.length ? { NextToken: String(start + 2) } : {}),
        });
      }
      case "DescribePermissionSet":
        return this.permissionSets.has(String(body.PermissionSetArn))
          ? ok({
              PermissionSet: { PermissionSetArn: body.PermissionSetArn, Name: "ReadOnly", SessionDuration: "PT1H" },
            })
          : awsError("ResourceNotFoundException", "permission set not found");
      default:
        return awsError("UnknownOperationException", operation);
    }
  }

  #startChange(kind: Change["kind"], body: Record<string, unknown>): ScriptedAnswer {
    if (!this.permissionSets.has(String(body.PermissionSetArn)))
      return awsError("ResourceNotFoundException", "permission set not found");
    if (body.TargetType !== "AWS_ACCOUNT" || body.PrincipalType !== "USER")
      return awsError("ValidationException", "bad types");
    const assignment: Assignment = {
      principalType: "USER",
      principalId: String(body.PrincipalId),
      accountId: String(body.TargetId),
      permissionSetArn: String(body.PermissionSetArn),
    };
    if (
      [...this.#changes.values()].some(
        (change) => change.status === "IN_PROGRESS" && sameAssignment(change.assignment, assignment),
      )
    )
      return awsError(
        "ConflictException",
        "An account assignment operation is already in progress for this principal.",
      );
    const change: Change = {
      requestId: randomUUID(),
      kind,
      assignment,
      status: "IN_PROGRESS",
      pollsLeft: this.pollsUntilSettled,
      failureReason: this.#failNextChange,
    };
    this.#failNextChange = undefined;
    this.#changes.set(change.requestId, change);
    if (change.pollsLeft <= 0) this.#settle(change);
    const key = kind === "creation" ? "AccountAssignmentCreationStatus" : "AccountAssignmentDeletionStatus";
    return { status: 200, body: JSON.stringify({ [key]: statusOf(change) }) };
  }

  /** Time passes with every request: changes in progress settle after `pollsUntilSettled` of them. */
  #tick(): void {
    for (const change of this.#changes.values())
      if (change.status === "IN_PROGRESS" && --change.pollsLeft <= 0) this.#settle(change);
  }

  #settle(change: Change): void {
    if (change.failureReason !== undefined) {
      change.status = "FAILED";
      return;
    }
    change.status = "SUCCEEDED";
    const index = this.assignments.findIndex((item) => sameAssignment(item, change.assignment));
    if (change.kind === "creation" && index < 0) this.assignments.push(change.assignment);
    if (change.kind === "deletion" && index >= 0) this.assignments.splice(index, 1);
  }
}

function statusOf(change: Change): Record<string, unknown> {
  return {
    Status: change.status,
    RequestId: change.requestId,
    ...(change.failureReason !== undefined && change.status === "FAILED"
      ? { FailureReason: change.failureReason }
      : {}),
    TargetId: change.assignment.accountId,
    TargetType: "AWS_ACCOUNT",
    PermissionSetArn: change.assignment.permissionSetArn,
    PrincipalType: change.assignment.principalType,
    PrincipalId: change.assignment.principalId,
    CreatedDate: Date.now() / 1000,
  };
}
